// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IDelegationStorage} from "../../interfaces/storage/IDelegationStorage.sol";
import {IDelegateRegistry} from "../../interfaces/deps/IDelegateRegistry.sol";

/// @notice Registry address, delegation rules and the self-or-delegatee check shared by all facets.
abstract contract DelegationStorage is IDelegationStorage {
    struct DLGTNStorage {
        address registry;
    }

    bytes32 public constant DELEGATION_STORAGE_SLOT = keccak256("diamond.standard.delegation.storage");
    bytes32 public constant DELEGATION_RULES_PROVIDER = keccak256("delegation.rules.provider");
    bytes32 public constant DELEGATION_RULES_MODEL = keccak256("delegation.rules.model");
    bytes32 public constant DELEGATION_RULES_MARKETPLACE = keccak256("delegation.rules.marketplace");
    bytes32 public constant DELEGATION_RULES_SESSION = keccak256("delegation.rules.session");

    function getRegistry() external view returns (address) {
        return _getDelegationStorage().registry;
    }

    /// @dev Reverts when the registry is unset or has no code: a local chain needs a real registry.
    function isRightsDelegated(address delegatee_, address delegator_, bytes32 rights_) public view returns (bool) {
        return
            IDelegateRegistry(_getDelegationStorage().registry).checkDelegateForContract(
                delegatee_,
                delegator_,
                address(this),
                rights_
            );
    }

    function _validateDelegatee(address delegatee_, address delegator_, bytes32 rights_) internal view {
        if (delegatee_ != delegator_ && !isRightsDelegated(delegatee_, delegator_, rights_)) {
            revert InsufficientRightsForOperation(delegator_, delegatee_);
        }
    }

    function _getDelegationStorage() internal pure returns (DLGTNStorage storage ds_) {
        bytes32 slot_ = DELEGATION_STORAGE_SLOT;

        assembly {
            ds_.slot := slot_
        }
    }
}
