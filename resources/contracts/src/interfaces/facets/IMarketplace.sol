// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IMarketplaceStorage} from "../storage/IMarketplaceStorage.sol";

/// @notice Bids on models, the bid fee and price bounds.
interface IMarketplace is IMarketplaceStorage {
    // The misspelling is upstream's and part of the ABI (topic0); do not fix it.
    event MaretplaceFeeUpdated(uint256 bidFee);
    event MarketplaceBidMinMaxPriceUpdated(uint256 bidMinPricePerSecond, uint256 bidMaxPricePerSecond);
    event MarketplaceBidPosted(address indexed provider, bytes32 indexed modelId, uint256 nonce);
    event MarketplaceBidDeleted(address indexed provider, bytes32 indexed modelId, uint256 nonce);

    error MarketplaceProviderNotFound();
    error MarketplaceModelNotFound();
    error MarketplaceActiveBidNotFound();
    error MarketplaceBidMinPricePerSecondIsZero();
    error MarketplaceBidMinPricePerSecondIsInvalid();
    error MarketplaceBidPricePerSecondInvalid();
    error MarketplaceFeeAmountIsZero();

    function __Marketplace_init(
        address token_,
        uint256 bidMinPricePerSecond_,
        uint256 bidMaxPricePerSecond_
    ) external;

    function setMarketplaceBidFee(uint256 bidFee_) external;

    function setMinMaxBidPricePerSecond(uint256 bidMinPricePerSecond_, uint256 bidMaxPricePerSecond_) external;

    function postModelBid(address provider_, bytes32 modelId_, uint256 pricePerSecond_) external returns (bytes32);

    function deleteModelBid(bytes32 bidId_) external;

    function withdrawFee(address recipient_, uint256 amount_) external;

    function getBidId(address provider_, bytes32 modelId_, uint256 nonce_) external pure returns (bytes32);

    function getProviderModelId(address provider_, bytes32 modelId_) external pure returns (bytes32);
}
