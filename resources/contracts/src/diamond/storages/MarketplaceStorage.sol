// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Diamond storage of the marketplace fee and price bounds.
abstract contract MarketplaceStorage {
    struct MRKTPLCStorage {
        uint256 bidFee;
        uint256 feeBalance;
        uint256 bidMinPricePerSecond;
        uint256 bidMaxPricePerSecond;
    }

    bytes32 public constant MARKETPLACE_STORAGE_SLOT = keccak256("diamond.standard.marketplace.storage");

    function _getMarketplaceStorage() internal pure returns (MRKTPLCStorage storage ds_) {
        bytes32 slot_ = MARKETPLACE_STORAGE_SLOT;

        assembly {
            ds_.slot := slot_
        }
    }
}
