// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {OwnableDiamondStorage} from "../presets/OwnableDiamondStorage.sol";
import {InitializableStorage} from "../presets/InitializableStorage.sol";
import {DelegationStorage} from "../storages/DelegationStorage.sol";
import {IDelegation} from "../../interfaces/facets/IDelegation.sol";

/// @notice Facet: points the diamond at a delegate.xyz v2 registry.
contract Delegation is IDelegation, OwnableDiamondStorage, InitializableStorage, DelegationStorage {
    // setRegistry is owner-only, so in practice the initialiser is too (as upstream).
    function __Delegation_init(address registry_) external initializer(DELEGATION_STORAGE_SLOT) {
        setRegistry(registry_);
    }

    function setRegistry(address registry_) public onlyOwner {
        _getDelegationStorage().registry = registry_;

        emit DelegationRegistryUpdated(registry_);
    }
}
