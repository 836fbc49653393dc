// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IProviderStorage} from "../storage/IProviderStorage.sol";

/// @notice Provider registration and staking.
interface IProviderRegistry is IProviderStorage {
    event ProviderRegistered(address indexed provider);
    event ProviderDeregistered(address indexed provider);
    event ProviderMinimumStakeUpdated(uint256 providerMinimumStake);
    // Declared upstream but never emitted; kept for ABI compatibility.
    event ProviderWithdrawn(address indexed provider, uint256 amount);

    error ProviderStakeTooLow(uint256 amount, uint256 minAmount);
    error ProviderNotDeregistered();
    error ProviderNoStake();
    error ProviderNothingToWithdraw();
    error ProviderHasActiveBids();
    error ProviderNotFound();
    error ProviderHasAlreadyDeregistered();

    function __ProviderRegistry_init() external;

    function providerSetMinStake(uint256 providerMinimumStake_) external;

    function providerRegister(address provider_, uint256 amount_, string calldata endpoint_) external;

    function providerDeregister(address provider_) external;
}
