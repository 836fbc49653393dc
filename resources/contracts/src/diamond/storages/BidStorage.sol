// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IBidStorage} from "../../interfaces/storage/IBidStorage.sol";

/// @notice Diamond storage of bids, bid lists and the MOR token.
abstract contract BidStorage {
    struct BDStorage {
        IERC20 token;
        mapping(bytes32 => IBidStorage.Bid) bids;
        mapping(address => EnumerableSet.Bytes32Set) providerBids;
        mapping(address => EnumerableSet.Bytes32Set) providerActiveBids;
        mapping(bytes32 => EnumerableSet.Bytes32Set) modelBids;
        mapping(bytes32 => EnumerableSet.Bytes32Set) modelActiveBids;
        mapping(bytes32 => uint256) providerModelNonce;
    }

    bytes32 public constant BIDS_STORAGE_SLOT = keccak256("diamond.standard.bids.storage");

    function _isBidActive(bytes32 bidId_) internal view returns (bool) {
        IBidStorage.Bid storage bid = _getBidsStorage().bids[bidId_];

        return bid.createdAt != 0 && bid.deletedAt == 0;
    }

    function _getBidsStorage() internal pure returns (BDStorage storage ds_) {
        bytes32 slot_ = BIDS_STORAGE_SLOT;

        assembly {
            ds_.slot := slot_
        }
    }
}
