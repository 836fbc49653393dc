// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {SafeERC20, IERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {OwnableDiamondStorage} from "../presets/OwnableDiamondStorage.sol";
import {InitializableStorage} from "../presets/InitializableStorage.sol";
import {SessionStorage} from "../storages/SessionStorage.sol";
import {ProviderStorage} from "../storages/ProviderStorage.sol";
import {BidStorage} from "../storages/BidStorage.sol";
import {StatsStorage} from "../storages/StatsStorage.sol";
import {DelegationStorage} from "../storages/DelegationStorage.sol";
import {LibSD} from "../../libs/LibSD.sol";
import {LinearDistributionIntervalDecrease} from "../../libs/LinearDistributionIntervalDecrease.sol";
import {Paginator} from "../../libs/Paginator.sol";
import {ISessionRouter} from "../../interfaces/facets/ISessionRouter.sol";
import {IStatsStorage} from "../../interfaces/storage/IStatsStorage.sol";
import {IBidStorage} from "../../interfaces/storage/IBidStorage.sol";
import {IProviderStorage} from "../../interfaces/storage/IProviderStorage.sol";

/// @notice Facet: sessions between users and providers, paid from the compute pool budget or the user's stake.
/// @dev The arithmetic (casts, rounding, the order of checks) deliberately mirrors upstream, quirks included,
///      so that a client written against this chain behaves identically against the deployed diamond.
contract SessionRouter is
    ISessionRouter,
    IStatsStorage,
    OwnableDiamondStorage,
    InitializableStorage,
    SessionStorage,
    ProviderStorage,
    BidStorage,
    StatsStorage,
    DelegationStorage
{
    using EnumerableSet for EnumerableSet.Bytes32Set;
    using SafeERC20 for IERC20;
    using LibSD for LibSD.SD;

    function __SessionRouter_init(
        address fundingAccount_,
        uint128 maxSessionDuration_,
        Pool[] calldata pools_
    ) external initializer(SESSIONS_STORAGE_SLOT) {
        SNStorage storage ss = _getSessionsStorage();

        setMaxSessionDuration(maxSessionDuration_);
        ss.fundingAccount = fundingAccount_;
        for (uint256 i = 0; i < pools_.length; i++) {
            ss.pools.push(pools_[i]);
        }
    }

    /// @dev Pools mirror the L1 Distribution contract 0x47176B2Af9885dC6C4575d4eFd63895f7Aaa4790.
    function setPoolConfig(uint256 index_, Pool calldata pool_) external onlyOwner {
        SNStorage storage ss = _getSessionsStorage();
        if (index_ >= ss.pools.length) {
            revert SessionPoolIndexOutOfBounds();
        }

        ss.pools[index_] = pool_;
    }

    function setMaxSessionDuration(uint128 maxSessionDuration_) public onlyOwner {
        if (maxSessionDuration_ < MIN_SESSION_DURATION) {
            revert SessionMaxDurationTooShort();
        }

        _getSessionsStorage().maxSessionDuration = maxSessionDuration_;
    }

    ////////////////////////
    ///   OPEN SESSION   ///
    ////////////////////////

    function openSession(
        address user_,
        uint256 amount_,
        bool isDirectPaymentFromUser_,
        bytes calldata approvalEncoded_,
        bytes calldata signature_
    ) external returns (bytes32 sessionId_) {
        _validateDelegatee(msg.sender, user_, DELEGATION_RULES_SESSION);

        bytes32 bidId_ = _decodeApproval(approvalEncoded_);
        sessionId_ = getSessionId(
            user_,
            _getBidsStorage().bids[bidId_].provider,
            bidId_,
            _getSessionsStorage().sessionNonce++
        );

        // The stake moves before validation, as upstream (a missing allowance reverts first).
        _getBidsStorage().token.safeTransferFrom(user_, address(this), amount_);

        uint128 endsAt_ = _validateSession(bidId_, amount_, isDirectPaymentFromUser_, approvalEncoded_, signature_);
        _storeSession(sessionId_, user_, bidId_, amount_, endsAt_, isDirectPaymentFromUser_);
        _getSessionsStorage().isProviderApprovalUsed[approvalEncoded_] = true;

        emit SessionOpened(user_, sessionId_, _getBidsStorage().bids[bidId_].provider);
    }

    function _storeSession(
        bytes32 sessionId_,
        address user_,
        bytes32 bidId_,
        uint256 amount_,
        uint128 endsAt_,
        bool isDirectPaymentFromUser_
    ) private {
        SNStorage storage ss = _getSessionsStorage();
        IBidStorage.Bid storage bid = _getBidsStorage().bids[bidId_];
        Session storage session = ss.sessions[sessionId_];

        session.user = user_;
        session.stake = amount_;
        session.bidId = bidId_;
        session.openedAt = uint128(block.timestamp);
        session.endsAt = endsAt_;
        session.isActive = true;
        session.isDirectPaymentFromUser = isDirectPaymentFromUser_;

        ss.userSessions[user_].add(sessionId_);
        ss.providerSessions[bid.provider].add(sessionId_);
        ss.modelSessions[bid.modelId].add(sessionId_);
    }

    function _validateSession(
        bytes32 bidId_,
        uint256 amount_,
        bool isDirectPaymentFromUser_,
        bytes calldata approvalEncoded_,
        bytes calldata signature_
    ) private view returns (uint128) {
        if (!_isBidActive(bidId_)) {
            revert SessionBidNotFound();
        }

        IBidStorage.Bid storage bid = _getBidsStorage().bids[bidId_];
        if (!_isValidProviderSignature(bid.provider, approvalEncoded_, signature_)) {
            revert SessionProviderSignatureMismatch();
        }
        if (_getSessionsStorage().isProviderApprovalUsed[approvalEncoded_]) {
            revert SessionDuplicateApproval();
        }

        uint128 endsAt_ = getSessionEnd(amount_, bid.pricePerSecond, uint128(block.timestamp));
        uint128 duration_ = endsAt_ - uint128(block.timestamp);
        if (duration_ < MIN_SESSION_DURATION) {
            revert SessionTooShort();
        }
        if (isDirectPaymentFromUser_ && duration_ * bid.pricePerSecond > amount_) {
            revert SessionStakeTooLow();
        }

        return endsAt_;
    }

    /// @dev approval = abi.encode(bytes32 bidId, uint256 chainId, address user, uint128 timestamp).
    ///      The user field is deliberately not checked so that delegatees can open sessions.
    function _decodeApproval(bytes calldata approval_) private view returns (bytes32) {
        (bytes32 bidId_, uint256 chainId_, , uint128 timestamp_) = abi.decode(
            approval_,
            (bytes32, uint256, address, uint128)
        );

        if (chainId_ != block.chainid) {
            revert SessionApprovedForAnotherChainId();
        }
        if (block.timestamp > timestamp_ + SIGNATURE_TTL) {
            revert SessionApproveExpired();
        }

        return bidId_;
    }

    ///////////////////////////
    ///   CLOSE SESSION   ///
    ///////////////////////////

    function closeSession(bytes calldata receiptEncoded_, bytes calldata signature_) external {
        (bytes32 sessionId_, uint32 tpsScaled1000_, uint32 ttftMs_) = _decodeReceipt(receiptEncoded_);

        Session storage session = _getSessionsStorage().sessions[sessionId_];
        IBidStorage.Bid storage bid = _getBidsStorage().bids[session.bidId];

        // Only the user (or a SESSION delegatee) may close; unknown sessions have user 0.
        _validateDelegatee(msg.sender, session.user, DELEGATION_RULES_SESSION);

        if (session.closedAt != 0) {
            revert SessionAlreadyClosed();
        }

        session.isActive = false;
        session.closeoutReceipt = receiptEncoded_;
        session.closedAt = uint128(block.timestamp);

        // Any well-formed signature is accepted; a non-provider signer marks a dispute.
        bool noDispute_ = _isValidProviderSignature(bid.provider, receiptEncoded_, signature_);

        _rewardUserAfterClose(session, bid);
        _rewardProviderAfterClose(noDispute_, session, bid);
        _setStats(noDispute_, ttftMs_, tpsScaled1000_, session, bid);

        emit SessionClosed(session.user, sessionId_, bid.provider);
    }

    /// @dev receipt = abi.encode(bytes32 sessionId, uint256 chainId, uint128 ts, uint32 tps, uint32 ttft);
    ///      longer receipts (the Go router appends token counts) decode fine, trailing words are ignored.
    function _decodeReceipt(bytes calldata receipt_) private view returns (bytes32, uint32, uint32) {
        (bytes32 sessionId_, uint256 chainId_, uint128 timestamp_, uint32 tpsScaled1000_, uint32 ttftMs_) = abi
            .decode(receipt_, (bytes32, uint256, uint128, uint32, uint32));

        if (chainId_ != block.chainid) {
            revert SessionReceiptForAnotherChainId();
        }
        if (block.timestamp > timestamp_ + SIGNATURE_TTL) {
            revert SessionReceiptExpired();
        }

        return (sessionId_, tpsScaled1000_, ttftMs_);
    }

    function _rewardUserAfterClose(Session storage session, IBidStorage.Bid storage bid) private {
        uint128 startOfClosedAt_ = startOfTheDay(session.closedAt);
        bool isClosingLate_ = session.closedAt >= session.endsAt;

        uint256 toProvider_ = session.isDirectPaymentFromUser ? _providerRewards(session, bid, false) : 0;
        uint256 userStake_ = session.stake - toProvider_;
        uint256 lock_ = 0;

        if (!isClosingLate_) {
            // Today's share of the stipend stays locked until the next UTC midnight.
            uint256 duration_ = Math.min(session.endsAt, session.closedAt) -
                Math.max(session.openedAt, startOfClosedAt_);
            lock_ = Math.min(userStake_, stipendToStake(duration_ * bid.pricePerSecond, startOfClosedAt_));

            _getSessionsStorage().userStakesOnHold[session.user].push(
                OnHold(lock_, uint128(startOfClosedAt_ + 1 days))
            );
        }

        _getBidsStorage().token.safeTransfer(session.user, userStake_ - lock_);
    }

    function _rewardProviderAfterClose(bool noDispute_, Session storage session, IBidStorage.Bid storage bid) private {
        bool isClosingLate_ = session.closedAt >= session.endsAt;

        uint256 amount_ = _providerRewards(session, bid, true);
        if (!noDispute_ && !isClosingLate_) {
            // Disputed early close: today's usage is withheld until tomorrow.
            amount_ -= _providerOnHoldAmount(session, bid);
        }

        _claimForProvider(session, amount_);
    }

    function _setStats(
        bool noDispute_,
        uint32 ttftMs_,
        uint32 tpsScaled1000_,
        Session storage session,
        IBidStorage.Bid storage bid
    ) private {
        STTSStorage storage sts = _getStatsStorage();
        ProviderModelStats storage pm = sts.providerModelStats[bid.modelId][bid.provider];
        ModelStats storage m = sts.modelStats[bid.modelId];

        pm.totalCount++;

        if (!noDispute_) {
            session.closeoutType = 1;
            return;
        }

        if (pm.successCount > 0) {
            // This pair already contributes to the model averages: take its old means out first.
            m.tpsScaled1000.remove(int32(pm.tpsScaled1000.mean), int32(m.count - 1));
            m.ttftMs.remove(int32(pm.ttftMs.mean), int32(m.count - 1));
        } else {
            m.count++;
        }

        pm.successCount++;
        pm.totalDuration += uint32(session.closedAt - session.openedAt);
        pm.tpsScaled1000.add(int32(tpsScaled1000_), int32(pm.successCount));
        pm.ttftMs.add(int32(ttftMs_), int32(pm.successCount));

        // totalDuration is only ever added to the model (upstream quirk, kept).
        m.totalDuration.add(int32(pm.totalDuration), int32(m.count));
        m.tpsScaled1000.add(int32(pm.tpsScaled1000.mean), int32(m.count));
        m.ttftMs.add(int32(pm.ttftMs.mean), int32(m.count));
    }

    ///////////////////////////////
    ///   PROVIDER CLAIMS   ///
    ///////////////////////////////

    /// @dev The on-hold part is subtracted even after an undisputed close (upstream quirk): a same-day
    ///      claim after an early undisputed close underflows and reverts with panic 0x11.
    function claimForProvider(bytes32 sessionId_) external {
        Session storage session = _getSessionsStorage().sessions[sessionId_];
        IBidStorage.Bid storage bid = _getBidsStorage().bids[session.bidId];

        _validateDelegatee(msg.sender, bid.provider, DELEGATION_RULES_SESSION);

        _claimForProvider(session, _providerRewards(session, bid, true) - _providerOnHoldAmount(session, bid));
    }

    function _providerRewards(
        Session storage session,
        IBidStorage.Bid storage bid,
        bool subtractWithdrawn_
    ) private view returns (uint256) {
        uint256 sessionEnd_ = session.closedAt == 0
            ? session.endsAt
            : Math.min(session.closedAt, session.endsAt);
        if (block.timestamp < sessionEnd_) {
            return 0;
        }

        uint256 withdrawn_ = subtractWithdrawn_ ? session.providerWithdrawnAmount : 0;

        return (sessionEnd_ - session.openedAt) * bid.pricePerSecond - withdrawn_;
    }

    function _providerOnHoldAmount(Session storage session, IBidStorage.Bid storage bid) private view returns (uint256) {
        uint128 startOfClosedAt_ = startOfTheDay(session.closedAt);
        if (block.timestamp >= startOfClosedAt_ + 1 days) {
            return 0;
        }

        return (session.closedAt - Math.max(startOfClosedAt_, session.openedAt)) * bid.pricePerSecond;
    }

    /// @dev Pays at most the provider's stake per 365-day period, from the escrow (direct) or the funding account.
    function _claimForProvider(Session storage session, uint256 amount_) private {
        IBidStorage.Bid storage bid = _getBidsStorage().bids[session.bidId];
        IProviderStorage.Provider storage provider = _getProvidersStorage().providers[bid.provider];

        if (block.timestamp > provider.limitPeriodEnd) {
            provider.limitPeriodEnd = uint128(block.timestamp) + PROVIDER_REWARD_LIMITER_PERIOD;
            provider.limitPeriodEarned = 0;
        }

        amount_ = Math.min(amount_, provider.stake - provider.limitPeriodEarned);
        if (amount_ == 0) {
            return;
        }

        SNStorage storage ss = _getSessionsStorage();
        session.providerWithdrawnAmount += amount_;
        provider.limitPeriodEarned += amount_;
        ss.providersTotalClaimed += amount_;

        IERC20 token_ = _getBidsStorage().token;
        if (session.isDirectPaymentFromUser) {
            token_.safeTransfer(bid.provider, amount_);
        } else {
            token_.safeTransferFrom(ss.fundingAccount, bid.provider, amount_);
        }
    }

    ///////////////////////////////
    ///   USER ON-HOLD STAKES   ///
    ///////////////////////////////

    function withdrawUserStakes(address user_, uint8 iterations_) external {
        _validateDelegatee(msg.sender, user_, DELEGATION_RULES_SESSION);

        OnHold[] storage entries = _getSessionsStorage().userStakesOnHold[user_];
        uint256 length_ = entries.length;
        // uint8 truncation of the length is upstream behaviour.
        uint8 count_ = iterations_ >= length_ ? uint8(length_) : iterations_;

        if (length_ == 0 || count_ == 0) {
            revert SessionUserAmountToWithdrawIsZero();
        }

        uint256 amount_ = 0;
        uint8 removed_ = 0;
        // Newest first; a released entry is replaced by the last one, then popped.
        for (uint256 i = length_; i > 0 && removed_ < count_; i--) {
            if (block.timestamp < entries[i - 1].releaseAt) {
                continue;
            }

            amount_ += entries[i - 1].amount;
            entries[i - 1] = entries[length_ - 1];
            entries.pop();
            length_--;
            removed_++;
        }

        if (amount_ == 0) {
            revert SessionUserAmountToWithdrawIsZero();
        }

        _getBidsStorage().token.safeTransfer(user_, amount_);

        emit UserWithdrawn(user_, amount_);
    }

    /// @dev Sums all entries; `iterations_` is accepted for ABI compatibility and ignored.
    function getUserStakesOnHold(
        address user_,
        uint8 iterations_
    ) external view returns (uint256 available_, uint256 hold_) {
        iterations_;
        OnHold[] storage entries = _getSessionsStorage().userStakesOnHold[user_];

        for (uint256 i = 0; i < entries.length; i++) {
            if (block.timestamp < entries[i].releaseAt) {
                hold_ += entries[i].amount;
            } else {
                available_ += entries[i].amount;
            }
        }
    }

    //////////////////////////////
    ///   BUDGET AND STIPEND   ///
    //////////////////////////////

    function getSessionId(
        address user_,
        address provider_,
        bytes32 bidId_,
        uint256 sessionNonce_
    ) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(user_, provider_, bidId_, sessionNonce_));
    }

    function getSessionEnd(uint256 amount_, uint256 pricePerSecond_, uint128 openedAt_) public view returns (uint128) {
        // Truncating cast, as upstream.
        uint128 duration_ = uint128(stakeToStipend(amount_, openedAt_) / pricePerSecond_);
        uint128 maxDuration_ = _getSessionsStorage().maxSessionDuration;
        if (duration_ > maxDuration_) {
            duration_ = maxDuration_;
        }

        return openedAt_ + duration_;
    }

    function stakeToStipend(uint256 amount_, uint128 timestamp_) public view returns (uint256) {
        uint256 totalMorSupply_ = totalMORSupply(timestamp_);
        if (totalMorSupply_ == 0) {
            return 0;
        }

        return (amount_ * getComputeBalance(timestamp_)) / (totalMorSupply_ * 100);
    }

    function stipendToStake(uint256 stipend_, uint128 timestamp_) public view returns (uint256) {
        uint256 computeBalance_ = getComputeBalance(timestamp_);
        if (computeBalance_ == 0) {
            return 0;
        }

        return (stipend_ * totalMORSupply(timestamp_) * 100) / computeBalance_;
    }

    function getTodaysBudget(uint128 timestamp_) external view returns (uint256) {
        return getComputeBalance(timestamp_) / 100;
    }

    function getComputeBalance(uint128 timestamp_) public view returns (uint256) {
        SNStorage storage ss = _getSessionsStorage();

        return _poolReward(ss.pools[COMPUTE_POOL_INDEX], startOfTheDay(timestamp_)) - ss.providersTotalClaimed;
    }

    function totalMORSupply(uint128 timestamp_) public view returns (uint256) {
        SNStorage storage ss = _getSessionsStorage();
        uint128 startOfTheDay_ = startOfTheDay(timestamp_);
        uint256 total_ = 0;

        for (uint256 i = 0; i < ss.pools.length; i++) {
            if (i != COMPUTE_POOL_INDEX) {
                total_ += _poolReward(ss.pools[i], startOfTheDay_);
            }
        }

        return total_ + ss.providersTotalClaimed;
    }

    function startOfTheDay(uint128 timestamp_) public pure returns (uint128) {
        return timestamp_ - (timestamp_ % 1 days);
    }

    function _poolReward(Pool storage pool_, uint128 endTime_) private view returns (uint256) {
        return
            LinearDistributionIntervalDecrease.getPeriodReward(
                pool_.initialReward,
                pool_.rewardDecrease,
                pool_.payoutStart,
                pool_.decreaseInterval,
                pool_.payoutStart,
                endTime_
            );
    }

    ////////////////////////
    ///   SIGNATURES   ///
    ////////////////////////

    /// @dev Accepted signers: the provider; its PROVIDER delegatee; or, for contract providers (subnets),
    ///      the address their owner() returns. Malformed signatures revert inside OZ ECDSA.
    function _isValidProviderSignature(
        address provider_,
        bytes calldata message_,
        bytes calldata signature_
    ) private view returns (bool) {
        bytes32 digest_ = ECDSA.toEthSignedMessageHash(keccak256(message_));
        address signer_ = ECDSA.recover(digest_, signature_);

        if (signer_ == provider_ || isRightsDelegated(signer_, provider_, DELEGATION_RULES_PROVIDER)) {
            return true;
        }

        return _isContractOwner(provider_, signer_);
    }

    function _isContractOwner(address contract_, address account_) private view returns (bool) {
        if (contract_.code.length == 0) {
            return false;
        }

        (bool ok_, bytes memory data_) = contract_.staticcall(abi.encodeWithSignature("owner()"));

        return ok_ && data_.length >= 32 && abi.decode(data_, (address)) == account_;
    }

    //////////////////////
    ///   GETTERS   ///
    //////////////////////

    function getSession(bytes32 sessionId_) external view returns (Session memory) {
        return _getSessionsStorage().sessions[sessionId_];
    }

    function getUserSessions(
        address user_,
        uint256 offset_,
        uint256 limit_
    ) external view returns (bytes32[] memory, uint256) {
        return Paginator.part(_getSessionsStorage().userSessions[user_], offset_, limit_);
    }

    function getProviderSessions(
        address provider_,
        uint256 offset_,
        uint256 limit_
    ) external view returns (bytes32[] memory, uint256) {
        return Paginator.part(_getSessionsStorage().providerSessions[provider_], offset_, limit_);
    }

    function getModelSessions(
        bytes32 modelId_,
        uint256 offset_,
        uint256 limit_
    ) external view returns (bytes32[] memory, uint256) {
        return Paginator.part(_getSessionsStorage().modelSessions[modelId_], offset_, limit_);
    }

    function getPools() external view returns (Pool[] memory) {
        return _getSessionsStorage().pools;
    }

    function getPool(uint256 index_) external view returns (Pool memory) {
        return _getSessionsStorage().pools[index_];
    }

    function getFundingAccount() external view returns (address) {
        return _getSessionsStorage().fundingAccount;
    }

    function getTotalSessions(address provider_) external view returns (uint256) {
        return _getSessionsStorage().providerSessions[provider_].length();
    }

    function getProvidersTotalClaimed() external view returns (uint256) {
        return _getSessionsStorage().providersTotalClaimed;
    }

    function getIsProviderApprovalUsed(bytes memory approval_) external view returns (bool) {
        return _getSessionsStorage().isProviderApprovalUsed[approval_];
    }

    function getMaxSessionDuration() external view returns (uint128) {
        return _getSessionsStorage().maxSessionDuration;
    }

    function getProviderModelStats(
        bytes32 modelId_,
        address provider_
    ) external view returns (ProviderModelStats memory) {
        return _getStatsStorage().providerModelStats[modelId_][provider_];
    }

    function getModelStats(bytes32 modelId_) external view returns (ModelStats memory) {
        return _getStatsStorage().modelStats[modelId_];
    }
}
