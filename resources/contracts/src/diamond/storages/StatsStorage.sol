// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IStatsStorage} from "../../interfaces/storage/IStatsStorage.sol";

/// @notice Diamond storage of model and provider-model statistics.
abstract contract StatsStorage {
    struct STTSStorage {
        mapping(bytes32 => IStatsStorage.ModelStats) modelStats;
        mapping(bytes32 => mapping(address => IStatsStorage.ProviderModelStats)) providerModelStats;
    }

    bytes32 public constant STATS_STORAGE_SLOT = keccak256("diamond.standard.stats.storage");

    function _getStatsStorage() internal pure returns (STTSStorage storage ds_) {
        bytes32 slot_ = STATS_STORAGE_SLOT;

        assembly {
            ds_.slot := slot_
        }
    }
}
