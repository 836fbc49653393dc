// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

import {IModelStorage} from "../../interfaces/storage/IModelStorage.sol";

/// @notice Diamond storage of the model registry.
abstract contract ModelStorage {
    struct MDLStorage {
        uint256 modelMinimumStake;
        EnumerableSet.Bytes32Set modelIds;
        EnumerableSet.Bytes32Set activeModels;
        mapping(bytes32 => IModelStorage.Model) models;
    }

    bytes32 public constant MODELS_STORAGE_SLOT = keccak256("diamond.standard.models.storage");

    function _isModelActive(bytes32 modelId_) internal view returns (bool) {
        IModelStorage.Model storage model = _getModelsStorage().models[modelId_];

        return model.createdAt != 0 && !model.isDeleted;
    }

    function _getModelsStorage() internal pure returns (MDLStorage storage ds_) {
        bytes32 slot_ = MODELS_STORAGE_SLOT;

        assembly {
            ds_.slot := slot_
        }
    }
}
