// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {SafeERC20, IERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {OwnableDiamondStorage} from "../presets/OwnableDiamondStorage.sol";
import {InitializableStorage} from "../presets/InitializableStorage.sol";
import {MarketplaceStorage} from "../storages/MarketplaceStorage.sol";
import {ProviderStorage} from "../storages/ProviderStorage.sol";
import {ModelStorage} from "../storages/ModelStorage.sol";
import {BidStorage} from "../storages/BidStorage.sol";
import {DelegationStorage} from "../storages/DelegationStorage.sol";
import {Paginator} from "../../libs/Paginator.sol";
import {IMarketplace} from "../../interfaces/facets/IMarketplace.sol";
import {IBidStorage} from "../../interfaces/storage/IBidStorage.sol";

/// @notice Facet: providers post one priced bid per (provider, model); a fee is charged per post.
contract Marketplace is
    IMarketplace,
    IBidStorage,
    OwnableDiamondStorage,
    InitializableStorage,
    MarketplaceStorage,
    ProviderStorage,
    ModelStorage,
    BidStorage,
    DelegationStorage
{
    using EnumerableSet for EnumerableSet.Bytes32Set;
    using SafeERC20 for IERC20;

    function __Marketplace_init(
        address token_,
        uint256 bidMinPricePerSecond_,
        uint256 bidMaxPricePerSecond_
    ) external initializer(MARKETPLACE_STORAGE_SLOT) {
        _getBidsStorage().token = IERC20(token_);

        setMinMaxBidPricePerSecond(bidMinPricePerSecond_, bidMaxPricePerSecond_);
    }

    function setMarketplaceBidFee(uint256 bidFee_) external onlyOwner {
        _getMarketplaceStorage().bidFee = bidFee_;

        emit MaretplaceFeeUpdated(bidFee_);
    }

    function setMinMaxBidPricePerSecond(
        uint256 bidMinPricePerSecond_,
        uint256 bidMaxPricePerSecond_
    ) public onlyOwner {
        if (bidMinPricePerSecond_ == 0) {
            revert MarketplaceBidMinPricePerSecondIsZero();
        }
        if (bidMinPricePerSecond_ > bidMaxPricePerSecond_) {
            revert MarketplaceBidMinPricePerSecondIsInvalid();
        }

        MRKTPLCStorage storage ms = _getMarketplaceStorage();
        ms.bidMinPricePerSecond = bidMinPricePerSecond_;
        ms.bidMaxPricePerSecond = bidMaxPricePerSecond_;

        emit MarketplaceBidMinMaxPriceUpdated(bidMinPricePerSecond_, bidMaxPricePerSecond_);
    }

    function postModelBid(address provider_, bytes32 modelId_, uint256 pricePerSecond_) external returns (bytes32) {
        _validateDelegatee(msg.sender, provider_, DELEGATION_RULES_MARKETPLACE);

        if (!_isProviderActive(provider_)) {
            revert MarketplaceProviderNotFound();
        }
        if (!_isModelActive(modelId_)) {
            revert MarketplaceModelNotFound();
        }

        MRKTPLCStorage storage ms = _getMarketplaceStorage();
        if (pricePerSecond_ < ms.bidMinPricePerSecond || pricePerSecond_ > ms.bidMaxPricePerSecond) {
            revert MarketplaceBidPricePerSecondInvalid();
        }

        BDStorage storage bs = _getBidsStorage();
        // Pulled even when the fee is 0, like upstream.
        bs.token.safeTransferFrom(provider_, address(this), ms.bidFee);
        ms.feeBalance += ms.bidFee;

        uint256 nonce_ = bs.providerModelNonce[getProviderModelId(provider_, modelId_)]++;
        if (nonce_ != 0) {
            // At most one active bid per (provider, model): a new post replaces the previous one.
            bytes32 previousBidId_ = getBidId(provider_, modelId_, nonce_ - 1);
            if (_isBidActive(previousBidId_)) {
                _deleteBid(previousBidId_);
            }
        }

        bytes32 bidId_ = getBidId(provider_, modelId_, nonce_);
        bs.bids[bidId_] = Bid(provider_, modelId_, pricePerSecond_, nonce_, uint128(block.timestamp), 0);

        bs.providerBids[provider_].add(bidId_);
        bs.providerActiveBids[provider_].add(bidId_);
        bs.modelBids[modelId_].add(bidId_);
        bs.modelActiveBids[modelId_].add(bidId_);

        emit MarketplaceBidPosted(provider_, modelId_, nonce_);

        return bidId_;
    }

    function deleteModelBid(bytes32 bidId_) external {
        _validateDelegatee(msg.sender, _getBidsStorage().bids[bidId_].provider, DELEGATION_RULES_MARKETPLACE);

        if (!_isBidActive(bidId_)) {
            revert MarketplaceActiveBidNotFound();
        }

        _deleteBid(bidId_);
    }

    function withdrawFee(address recipient_, uint256 amount_) external onlyOwner {
        MRKTPLCStorage storage ms = _getMarketplaceStorage();

        if (amount_ > ms.feeBalance) {
            amount_ = ms.feeBalance;
        }
        if (amount_ == 0) {
            revert MarketplaceFeeAmountIsZero();
        }

        ms.feeBalance -= amount_;
        _getBidsStorage().token.safeTransfer(recipient_, amount_);
    }

    function getBidId(address provider_, bytes32 modelId_, uint256 nonce_) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(provider_, modelId_, nonce_));
    }

    function getProviderModelId(address provider_, bytes32 modelId_) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(provider_, modelId_));
    }

    function getBidFee() external view returns (uint256) {
        return _getMarketplaceStorage().bidFee;
    }

    function getFeeBalance() external view returns (uint256) {
        return _getMarketplaceStorage().feeBalance;
    }

    function getMinMaxBidPricePerSecond() external view returns (uint256, uint256) {
        MRKTPLCStorage storage ms = _getMarketplaceStorage();

        return (ms.bidMinPricePerSecond, ms.bidMaxPricePerSecond);
    }

    function getBid(bytes32 bidId_) external view returns (Bid memory) {
        return _getBidsStorage().bids[bidId_];
    }

    function getToken() external view returns (address) {
        return address(_getBidsStorage().token);
    }

    function isBidActive(bytes32 bidId_) external view returns (bool) {
        return _isBidActive(bidId_);
    }

    function getProviderActiveBids(
        address provider_,
        uint256 offset_,
        uint256 limit_
    ) external view returns (bytes32[] memory, uint256) {
        return Paginator.part(_getBidsStorage().providerActiveBids[provider_], offset_, limit_);
    }

    function getModelActiveBids(
        bytes32 modelId_,
        uint256 offset_,
        uint256 limit_
    ) external view returns (bytes32[] memory, uint256) {
        return Paginator.part(_getBidsStorage().modelActiveBids[modelId_], offset_, limit_);
    }

    function getProviderBids(
        address provider_,
        uint256 offset_,
        uint256 limit_
    ) external view returns (bytes32[] memory, uint256) {
        return Paginator.part(_getBidsStorage().providerBids[provider_], offset_, limit_);
    }

    function getModelBids(
        bytes32 modelId_,
        uint256 offset_,
        uint256 limit_
    ) external view returns (bytes32[] memory, uint256) {
        return Paginator.part(_getBidsStorage().modelBids[modelId_], offset_, limit_);
    }

    function _deleteBid(bytes32 bidId_) private {
        BDStorage storage bs = _getBidsStorage();
        Bid storage bid = bs.bids[bidId_];

        bid.deletedAt = uint128(block.timestamp);
        bs.providerActiveBids[bid.provider].remove(bidId_);
        bs.modelActiveBids[bid.modelId].remove(bidId_);

        emit MarketplaceBidDeleted(bid.provider, bid.modelId, bid.nonce);
    }
}
