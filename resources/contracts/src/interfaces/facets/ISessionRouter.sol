// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ISessionStorage} from "../storage/ISessionStorage.sol";

/// @notice Sessions: open, close, provider claims, user on-hold withdrawals and the budget formulas.
interface ISessionRouter is ISessionStorage {
    event SessionOpened(address indexed user, bytes32 indexed sessionId, address indexed providerId);
    event SessionClosed(address indexed user, bytes32 indexed sessionId, address indexed providerId);
    event UserWithdrawn(address indexed user, uint256 amount_);

    error SessionProviderSignatureMismatch();
    error SessionApproveExpired();
    error SessionApprovedForAnotherChainId();
    error SessionDuplicateApproval();
    error SessionReceiptForAnotherChainId();
    error SessionReceiptExpired();
    error SessionTooShort();
    error SessionAlreadyClosed();
    error SessionBidNotFound();
    error SessionPoolIndexOutOfBounds();
    error SessionUserAmountToWithdrawIsZero();
    error SessionMaxDurationTooShort();
    error SessionStakeTooLow();
    // Declared upstream but never raised; kept for ABI compatibility.
    error SessionApprovedForAnotherUser();
    error SessionNotEndedOrNotExist();
    error SessionProviderNothingToClaimInThisPeriod();

    function __SessionRouter_init(
        address fundingAccount_,
        uint128 maxSessionDuration_,
        Pool[] calldata pools_
    ) external;

    function setPoolConfig(uint256 index_, Pool calldata pool_) external;

    function setMaxSessionDuration(uint128 maxSessionDuration_) external;

    function openSession(
        address user_,
        uint256 amount_,
        bool isDirectPaymentFromUser_,
        bytes calldata approvalEncoded_,
        bytes calldata signature_
    ) external returns (bytes32);

    function closeSession(bytes calldata receiptEncoded_, bytes calldata signature_) external;

    function claimForProvider(bytes32 sessionId_) external;

    function withdrawUserStakes(address user_, uint8 iterations_) external;

    function getSessionId(
        address user_,
        address provider_,
        bytes32 bidId_,
        uint256 sessionNonce_
    ) external pure returns (bytes32);

    function getSessionEnd(uint256 amount_, uint256 pricePerSecond_, uint128 openedAt_) external view returns (uint128);

    function stakeToStipend(uint256 amount_, uint128 timestamp_) external view returns (uint256);

    function stipendToStake(uint256 stipend_, uint128 timestamp_) external view returns (uint256);

    function getTodaysBudget(uint128 timestamp_) external view returns (uint256);

    function getComputeBalance(uint128 timestamp_) external view returns (uint256);

    function totalMORSupply(uint128 timestamp_) external view returns (uint256);

    function startOfTheDay(uint128 timestamp_) external pure returns (uint128);

    function getUserStakesOnHold(
        address user_,
        uint8 iterations_
    ) external view returns (uint256 available_, uint256 hold_);
}
