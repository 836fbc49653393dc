// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Delegation rules and the delegate.xyz registry lookup.
interface IDelegationStorage {
    error InsufficientRightsForOperation(address delegator, address delegatee);

    function getRegistry() external view returns (address);

    function isRightsDelegated(address delegatee_, address delegator_, bytes32 rights_) external view returns (bool);

    function DELEGATION_RULES_PROVIDER() external view returns (bytes32);

    function DELEGATION_RULES_MODEL() external view returns (bytes32);

    function DELEGATION_RULES_MARKETPLACE() external view returns (bytes32);

    function DELEGATION_RULES_SESSION() external view returns (bytes32);
}
