// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

/// @notice Offset/limit slices of enumerable sets; every list view returns (slice, total length).
library Paginator {
    using EnumerableSet for EnumerableSet.Bytes32Set;
    using EnumerableSet for EnumerableSet.AddressSet;

    function part(
        EnumerableSet.Bytes32Set storage set_,
        uint256 offset_,
        uint256 limit_
    ) internal view returns (bytes32[] memory items_, uint256 length_) {
        length_ = set_.length();
        uint256 to_ = _end(length_, offset_, limit_);

        items_ = new bytes32[](to_ - offset_);
        for (uint256 i = offset_; i < to_; i++) {
            items_[i - offset_] = set_.at(i);
        }
    }

    function part(
        EnumerableSet.AddressSet storage set_,
        uint256 offset_,
        uint256 limit_
    ) internal view returns (address[] memory items_, uint256 length_) {
        length_ = set_.length();
        uint256 to_ = _end(length_, offset_, limit_);

        items_ = new address[](to_ - offset_);
        for (uint256 i = offset_; i < to_; i++) {
            items_[i - offset_] = set_.at(i);
        }
    }

    function _end(uint256 length_, uint256 offset_, uint256 limit_) private pure returns (uint256 to_) {
        to_ = offset_ + limit_;
        if (to_ > length_) {
            to_ = length_;
        }
        if (offset_ > to_) {
            to_ = offset_;
        }
    }
}
