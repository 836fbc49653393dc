// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice One-shot initialisation per facet storage slot (facets share the diamond's storage).
abstract contract InitializableStorage {
    bytes32 internal constant INITIALIZABLE_STORAGE_SLOT = keccak256("diamond.standard.initializable.storage");

    struct IStorage {
        mapping(bytes32 => bool) initialized;
    }

    event Initialized(bytes32 storageSlot);

    modifier initializer(bytes32 storageSlot_) {
        IStorage storage is_ = _getInitializableStorage();
        require(!is_.initialized[storageSlot_], "Initializable: contract is already initialized");
        is_.initialized[storageSlot_] = true;
        _;
        emit Initialized(storageSlot_);
    }

    function _getInitializableStorage() private pure returns (IStorage storage is_) {
        bytes32 slot_ = INITIALIZABLE_STORAGE_SLOT;

        assembly {
            is_.slot := slot_
        }
    }
}
