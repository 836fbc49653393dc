// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

import {ISessionStorage} from "../../interfaces/storage/ISessionStorage.sol";

/// @notice Diamond storage of sessions, pools, on-hold user stakes and the session constants.
abstract contract SessionStorage {
    struct SNStorage {
        address fundingAccount;
        uint128 maxSessionDuration;
        uint256 sessionNonce;
        uint256 providersTotalClaimed;
        ISessionStorage.Pool[] pools;
        mapping(bytes32 => ISessionStorage.Session) sessions;
        mapping(address => EnumerableSet.Bytes32Set) userSessions;
        mapping(address => EnumerableSet.Bytes32Set) providerSessions;
        mapping(bytes32 => EnumerableSet.Bytes32Set) modelSessions;
        mapping(bytes => bool) isProviderApprovalUsed;
        mapping(address => ISessionStorage.OnHold[]) userStakesOnHold;
    }

    bytes32 public constant SESSIONS_STORAGE_SLOT = keccak256("diamond.standard.sessions.storage");
    // Public in the facet ABI but, like upstream, never registered on the diamond.
    uint32 public constant MIN_SESSION_DURATION = 5 minutes;
    uint32 public constant SIGNATURE_TTL = 10 minutes;
    uint256 public constant COMPUTE_POOL_INDEX = 3;

    function _getSessionsStorage() internal pure returns (SNStorage storage ds_) {
        bytes32 slot_ = SESSIONS_STORAGE_SLOT;

        assembly {
            ds_.slot := slot_
        }
    }
}
