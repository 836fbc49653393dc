// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IDelegationStorage} from "../storage/IDelegationStorage.sol";

/// @notice Configuration of the delegate.xyz registry used for self-or-delegatee checks.
interface IDelegation is IDelegationStorage {
    event DelegationRegistryUpdated(address registry);

    function __Delegation_init(address registry_) external;

    function setRegistry(address registry_) external;
}
