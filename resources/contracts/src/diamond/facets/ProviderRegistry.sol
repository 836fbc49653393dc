// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {SafeERC20, IERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {OwnableDiamondStorage} from "../presets/OwnableDiamondStorage.sol";
import {InitializableStorage} from "../presets/InitializableStorage.sol";
import {ProviderStorage} from "../storages/ProviderStorage.sol";
import {BidStorage} from "../storages/BidStorage.sol";
import {DelegationStorage} from "../storages/DelegationStorage.sol";
import {Paginator} from "../../libs/Paginator.sol";
import {IProviderRegistry} from "../../interfaces/facets/IProviderRegistry.sol";

/// @notice Facet: providers stake MOR to be listed; the stake also caps their yearly earnings.
contract ProviderRegistry is
    IProviderRegistry,
    OwnableDiamondStorage,
    InitializableStorage,
    ProviderStorage,
    BidStorage,
    DelegationStorage
{
    using EnumerableSet for EnumerableSet.AddressSet;
    using EnumerableSet for EnumerableSet.Bytes32Set;
    using SafeERC20 for IERC20;

    function __ProviderRegistry_init() external initializer(PROVIDERS_STORAGE_SLOT) {}

    function providerSetMinStake(uint256 providerMinimumStake_) external onlyOwner {
        _getProvidersStorage().providerMinimumStake = providerMinimumStake_;

        emit ProviderMinimumStakeUpdated(providerMinimumStake_);
    }

    function providerRegister(address provider_, uint256 amount_, string calldata endpoint_) external {
        _validateDelegatee(msg.sender, provider_, DELEGATION_RULES_PROVIDER);

        if (amount_ > 0) {
            _getBidsStorage().token.safeTransferFrom(provider_, address(this), amount_);
        }

        PRVDRStorage storage ps = _getProvidersStorage();
        Provider storage provider = ps.providers[provider_];

        uint256 newStake_ = provider.stake + amount_;
        if (newStake_ < ps.providerMinimumStake) {
            revert ProviderStakeTooLow(newStake_, ps.providerMinimumStake);
        }

        if (provider.createdAt == 0) {
            provider.createdAt = uint128(block.timestamp);
            provider.limitPeriodEnd = uint128(block.timestamp) + PROVIDER_REWARD_LIMITER_PERIOD;
        } else if (provider.isDeleted) {
            provider.isDeleted = false;
        }

        provider.endpoint = endpoint_;
        provider.stake = newStake_;
        ps.activeProviders.add(provider_);

        emit ProviderRegistered(provider_);
    }

    function providerDeregister(address provider_) external {
        _validateDelegatee(msg.sender, provider_, DELEGATION_RULES_PROVIDER);

        PRVDRStorage storage ps = _getProvidersStorage();
        Provider storage provider = ps.providers[provider_];

        if (provider.createdAt == 0) {
            revert ProviderNotFound();
        }
        if (_getBidsStorage().providerActiveBids[provider_].length() != 0) {
            revert ProviderHasActiveBids();
        }
        if (provider.isDeleted) {
            revert ProviderHasAlreadyDeregistered();
        }

        // Within the limiter period the already-earned part of the stake stays locked.
        uint256 refund_ = block.timestamp > provider.limitPeriodEnd
            ? provider.stake
            : provider.stake - provider.limitPeriodEarned;

        provider.stake -= refund_;
        provider.isDeleted = true;
        ps.activeProviders.remove(provider_);

        if (refund_ > 0) {
            _getBidsStorage().token.safeTransfer(provider_, refund_);
        }

        emit ProviderDeregistered(provider_);
    }

    function getProvider(address provider_) external view returns (Provider memory) {
        return _getProvidersStorage().providers[provider_];
    }

    function getProviderMinimumStake() external view returns (uint256) {
        return _getProvidersStorage().providerMinimumStake;
    }

    function getActiveProviders(uint256 offset_, uint256 limit_) external view returns (address[] memory, uint256) {
        return Paginator.part(_getProvidersStorage().activeProviders, offset_, limit_);
    }

    function getIsProviderActive(address provider_) external view returns (bool) {
        return _isProviderActive(provider_);
    }
}
