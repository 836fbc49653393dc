// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {SafeERC20, IERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {OwnableDiamondStorage} from "../presets/OwnableDiamondStorage.sol";
import {InitializableStorage} from "../presets/InitializableStorage.sol";
import {ModelStorage} from "../storages/ModelStorage.sol";
import {BidStorage} from "../storages/BidStorage.sol";
import {DelegationStorage} from "../storages/DelegationStorage.sol";
import {Paginator} from "../../libs/Paginator.sol";
import {IModelRegistry} from "../../interfaces/facets/IModelRegistry.sol";

/// @notice Facet: model owners stake MOR to list a model id that providers can bid on.
contract ModelRegistry is
    IModelRegistry,
    OwnableDiamondStorage,
    InitializableStorage,
    ModelStorage,
    BidStorage,
    DelegationStorage
{
    using EnumerableSet for EnumerableSet.Bytes32Set;
    using SafeERC20 for IERC20;

    function __ModelRegistry_init() external initializer(MODELS_STORAGE_SLOT) {}

    function modelSetMinStake(uint256 modelMinimumStake_) external onlyOwner {
        _getModelsStorage().modelMinimumStake = modelMinimumStake_;

        emit ModelMinimumStakeUpdated(modelMinimumStake_);
    }

    function modelRegister(
        address modelOwner_,
        bytes32 baseModelId_,
        bytes32 ipfsCID_,
        uint256 fee_,
        uint256 amount_,
        string calldata name_,
        string[] memory tags_
    ) external {
        _validateDelegatee(msg.sender, modelOwner_, DELEGATION_RULES_MODEL);

        MDLStorage storage ms = _getModelsStorage();
        bytes32 modelId_ = getModelId(modelOwner_, baseModelId_);
        Model storage model = ms.models[modelId_];

        uint256 newStake_ = model.stake + amount_;
        if (newStake_ < ms.modelMinimumStake) {
            revert ModelStakeTooLow(newStake_, ms.modelMinimumStake);
        }

        if (amount_ > 0) {
            _getBidsStorage().token.safeTransferFrom(modelOwner_, address(this), amount_);
        }

        if (model.createdAt == 0) {
            ms.modelIds.add(modelId_);
            model.createdAt = uint128(block.timestamp);
            model.owner = modelOwner_;
        }

        model.stake = newStake_;
        model.ipfsCID = ipfsCID_;
        model.fee = fee_; // royalty placeholder, unused by the marketplace
        model.name = name_;
        model.tags = tags_;
        model.isDeleted = false;
        ms.activeModels.add(modelId_);

        emit ModelRegisteredUpdated(modelOwner_, modelId_);
    }

    function modelDeregister(bytes32 modelId_) external {
        MDLStorage storage ms = _getModelsStorage();
        Model storage model = ms.models[modelId_];

        // Unknown ids have owner 0, so this reverts InsufficientRightsForOperation for them.
        _validateDelegatee(msg.sender, model.owner, DELEGATION_RULES_MODEL);

        if (_getBidsStorage().modelActiveBids[modelId_].length() != 0) {
            revert ModelHasActiveBids();
        }
        if (model.isDeleted) {
            revert ModelHasAlreadyDeregistered();
        }

        uint256 refund_ = model.stake;
        model.stake = 0;
        model.isDeleted = true;
        ms.activeModels.remove(modelId_);

        _getBidsStorage().token.safeTransfer(model.owner, refund_);

        emit ModelDeregistered(model.owner, modelId_);
    }

    function getModelId(address account_, bytes32 baseModelId_) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(account_, baseModelId_));
    }

    function getModel(bytes32 modelId_) external view returns (Model memory) {
        return _getModelsStorage().models[modelId_];
    }

    function getModelIds(uint256 offset_, uint256 limit_) external view returns (bytes32[] memory, uint256) {
        return Paginator.part(_getModelsStorage().modelIds, offset_, limit_);
    }

    function getModelMinimumStake() external view returns (uint256) {
        return _getModelsStorage().modelMinimumStake;
    }

    function getActiveModelIds(uint256 offset_, uint256 limit_) external view returns (bytes32[] memory, uint256) {
        return Paginator.part(_getModelsStorage().activeModels, offset_, limit_);
    }

    function getIsModelActive(bytes32 modelId_) external view returns (bool) {
        return _isModelActive(modelId_);
    }
}
