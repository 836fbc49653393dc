// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Running mean and squared-deviation sum (Welford) in signed 64-bit integers.
/// @dev Checked int64 arithmetic; Solidity division truncates toward zero, which clients must mirror.
library LibSD {
    struct SD {
        int64 mean;
        int64 sqSum;
    }

    function add(SD storage self, int64 x_, int64 count_) internal {
        int64 previousMean_ = self.mean;
        self.mean = previousMean_ + (x_ - previousMean_) / count_;
        self.sqSum = self.sqSum + (x_ - self.mean) * (x_ - previousMean_);
    }

    function remove(SD storage self, int64 x_, int64 count_) internal {
        if (count_ == 0) {
            self.mean = 0;
            self.sqSum = 0;
            return;
        }

        int64 previousMean_ = self.mean;
        self.mean = previousMean_ - (x_ - previousMean_) / count_;
        self.sqSum = self.sqSum - (x_ - self.mean) * (x_ - previousMean_);
    }
}
