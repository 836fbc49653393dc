// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Provider records and their views.
interface IProviderStorage {
    struct Provider {
        string endpoint;
        uint256 stake;
        uint128 createdAt;
        uint128 limitPeriodEnd;
        uint256 limitPeriodEarned;
        bool isDeleted;
    }

    function getProvider(address provider_) external view returns (Provider memory);

    function getProviderMinimumStake() external view returns (uint256);

    function getActiveProviders(uint256 offset_, uint256 limit_) external view returns (address[] memory, uint256);

    function getIsProviderActive(address provider_) external view returns (bool);
}
