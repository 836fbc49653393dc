// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {LibSD} from "../../libs/LibSD.sol";

/// @notice Per-model and per-(provider, model) quality statistics.
interface IStatsStorage {
    struct ModelStats {
        LibSD.SD tpsScaled1000;
        LibSD.SD ttftMs;
        LibSD.SD totalDuration;
        uint32 count;
    }

    struct ProviderModelStats {
        LibSD.SD tpsScaled1000;
        LibSD.SD ttftMs;
        uint32 totalDuration;
        uint32 successCount;
        uint32 totalCount;
    }

    function getProviderModelStats(
        bytes32 modelId_,
        address provider_
    ) external view returns (ProviderModelStats memory);

    function getModelStats(bytes32 modelId_) external view returns (ModelStats memory);
}
