// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Session records, reward pools and their views.
interface ISessionStorage {
    struct Session {
        address user;
        bytes32 bidId;
        uint256 stake;
        bytes closeoutReceipt;
        uint256 closeoutType;
        uint256 providerWithdrawnAmount;
        uint128 openedAt;
        uint128 endsAt;
        uint128 closedAt;
        bool isActive;
        bool isDirectPaymentFromUser;
    }

    struct OnHold {
        uint256 amount;
        uint128 releaseAt;
    }

    struct Pool {
        uint256 initialReward;
        uint256 rewardDecrease;
        uint128 payoutStart;
        uint128 decreaseInterval;
    }

    function getSession(bytes32 sessionId_) external view returns (Session memory);

    function getUserSessions(
        address user_,
        uint256 offset_,
        uint256 limit_
    ) external view returns (bytes32[] memory, uint256);

    function getProviderSessions(
        address provider_,
        uint256 offset_,
        uint256 limit_
    ) external view returns (bytes32[] memory, uint256);

    function getModelSessions(
        bytes32 modelId_,
        uint256 offset_,
        uint256 limit_
    ) external view returns (bytes32[] memory, uint256);

    function getPools() external view returns (Pool[] memory);

    function getPool(uint256 index_) external view returns (Pool memory);

    function getFundingAccount() external view returns (address);

    function getTotalSessions(address provider_) external view returns (uint256);

    function getProvidersTotalClaimed() external view returns (uint256);

    function getIsProviderApprovalUsed(bytes memory approval_) external view returns (bool);

    function getMaxSessionDuration() external view returns (uint128);
}
