// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

import {IProviderStorage} from "../../interfaces/storage/IProviderStorage.sol";

/// @notice Diamond storage of the provider registry.
abstract contract ProviderStorage {
    using EnumerableSet for EnumerableSet.AddressSet;

    struct PRVDRStorage {
        uint256 providerMinimumStake;
        EnumerableSet.AddressSet activeProviders;
        mapping(address => IProviderStorage.Provider) providers;
    }

    bytes32 public constant PROVIDERS_STORAGE_SLOT = keccak256("diamond.standard.providers.storage");
    // A provider can earn at most its own stake within one such period.
    uint128 internal constant PROVIDER_REWARD_LIMITER_PERIOD = 365 days;

    function _isProviderActive(address provider_) internal view returns (bool) {
        IProviderStorage.Provider storage provider = _getProvidersStorage().providers[provider_];

        return provider.createdAt != 0 && !provider.isDeleted;
    }

    function _getProvidersStorage() internal pure returns (PRVDRStorage storage ds_) {
        bytes32 slot_ = PROVIDERS_STORAGE_SLOT;

        assembly {
            ds_.slot := slot_
        }
    }
}
