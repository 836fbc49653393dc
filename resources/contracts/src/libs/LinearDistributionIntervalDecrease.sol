// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Cumulative emission of a pool whose per-interval reward decreases linearly.
/// @dev Interval k (0-based) pays `initial - k * decrease`, pro-rated inside partial intervals, until the
///      reward reaches zero. Every step floors, exactly like the Morpheus distribution library, because
///      session budgets on chain are derived from these numbers and must match bit for bit.
library LinearDistributionIntervalDecrease {
    function getPeriodReward(
        uint256 initialAmount_,
        uint256 decreaseAmount_,
        uint128 payoutStart_,
        uint128 interval_,
        uint128 startTime_,
        uint128 endTime_
    ) internal pure returns (uint256) {
        if (interval_ == 0) {
            return 0;
        }
        if (startTime_ < payoutStart_) {
            startTime_ = payoutStart_;
        }

        uint128 lastTime_ = _lastRewardTime(payoutStart_, interval_, initialAmount_, decreaseAmount_);
        if (endTime_ > lastTime_) {
            endTime_ = lastTime_;
        }
        if (startTime_ >= endTime_) {
            return 0;
        }

        uint256 startIndex_ = (startTime_ - payoutStart_) / interval_;
        if (startIndex_ == (endTime_ - payoutStart_) / interval_) {
            // Both ends inside one interval: a single pro-rated slice.
            uint256 reward_ = initialAmount_ - startIndex_ * decreaseAmount_;
            return (reward_ * (endTime_ - startTime_)) / interval_;
        }

        return
            _partialInterval(payoutStart_, startTime_, interval_, initialAmount_, decreaseAmount_, true) +
            _wholeIntervals(payoutStart_, startTime_, endTime_, interval_, initialAmount_, decreaseAmount_) +
            _partialInterval(payoutStart_, endTime_, interval_, initialAmount_, decreaseAmount_, false);
    }

    function _lastRewardTime(
        uint128 payoutStart_,
        uint128 interval_,
        uint256 initialAmount_,
        uint256 decreaseAmount_
    ) private pure returns (uint128) {
        if (decreaseAmount_ == 0) {
            return type(uint128).max;
        }

        return uint128(payoutStart_ + _ceilDiv(initialAmount_, decreaseAmount_) * interval_);
    }

    /// @dev The slice from `time_` to the end of its interval (`tail_`), or from its interval's start to `time_`.
    function _partialInterval(
        uint128 payoutStart_,
        uint128 time_,
        uint128 interval_,
        uint256 initialAmount_,
        uint256 decreaseAmount_,
        bool tail_
    ) private pure returns (uint256) {
        uint256 index_ = (time_ - payoutStart_) / interval_;
        uint256 decreased_ = index_ * decreaseAmount_;
        if (decreased_ >= initialAmount_) {
            return 0;
        }

        uint256 part_ = tail_
            ? interval_ * (index_ + 1) + payoutStart_ - time_
            : time_ - interval_ * index_ - payoutStart_;
        if (part_ == interval_) {
            return 0;
        }

        return ((initialAmount_ - decreased_) * part_) / interval_;
    }

    /// @dev Sum of the whole intervals between the first boundary at/after `startTime_` and `endTime_`.
    function _wholeIntervals(
        uint128 payoutStart_,
        uint128 startTime_,
        uint128 endTime_,
        uint128 interval_,
        uint256 initialAmount_,
        uint256 decreaseAmount_
    ) private pure returns (uint256) {
        uint256 firstIndex_ = _ceilDiv(startTime_ - payoutStart_, interval_);
        uint256 firstReward_ = initialAmount_ - firstIndex_ * decreaseAmount_;

        uint256 count_ = (endTime_ - payoutStart_ - firstIndex_ * interval_) / interval_;
        if (count_ == 0) {
            return 0;
        }

        // Arithmetic series: count * first - decrease * (0 + 1 + ... + (count - 1)).
        return firstReward_ * count_ - (decreaseAmount_ * (count_ * (count_ - 1))) / 2;
    }

    function _ceilDiv(uint256 a_, uint256 b_) private pure returns (uint256) {
        return (a_ + b_ - 1) / b_;
    }
}
