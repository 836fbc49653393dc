// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Marketplace fee and price-bound views.
interface IMarketplaceStorage {
    function getBidFee() external view returns (uint256);

    function getFeeBalance() external view returns (uint256);

    function getMinMaxBidPricePerSecond() external view returns (uint256, uint256);
}
