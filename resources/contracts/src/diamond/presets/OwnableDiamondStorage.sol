// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The diamond owner, kept in diamond storage so every facet can enforce onlyOwner.
abstract contract OwnableDiamondStorage {
    bytes32 public constant DIAMOND_OWNABLE_STORAGE_SLOT = keccak256("diamond.standard.diamond.ownable.storage");

    struct DOStorage {
        address owner;
    }

    error OwnableUnauthorizedAccount(address account_);

    modifier onlyOwner() {
        _onlyOwner();
        _;
    }

    function owner() public view returns (address) {
        return _getOwnableStorage().owner;
    }

    function _onlyOwner() internal view {
        if (owner() != msg.sender) {
            revert OwnableUnauthorizedAccount(msg.sender);
        }
    }

    function _getOwnableStorage() internal pure returns (DOStorage storage ds_) {
        bytes32 slot_ = DIAMOND_OWNABLE_STORAGE_SLOT;

        assembly {
            ds_.slot := slot_
        }
    }
}
