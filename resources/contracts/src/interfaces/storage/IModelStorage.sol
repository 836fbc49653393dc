// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Model records and their views.
interface IModelStorage {
    struct Model {
        bytes32 ipfsCID;
        uint256 fee;
        uint256 stake;
        address owner;
        string name;
        string[] tags;
        uint128 createdAt;
        bool isDeleted;
    }

    function getModel(bytes32 modelId_) external view returns (Model memory);

    function getModelIds(uint256 offset_, uint256 limit_) external view returns (bytes32[] memory, uint256);

    function getModelMinimumStake() external view returns (uint256);

    function getActiveModelIds(uint256 offset_, uint256 limit_) external view returns (bytes32[] memory, uint256);

    function getIsModelActive(bytes32 modelId_) external view returns (bool);
}
