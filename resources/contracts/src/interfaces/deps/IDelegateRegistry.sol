// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The subset of the delegate.xyz v2 registry the marketplace uses.
interface IDelegateRegistry {
    function checkDelegateForContract(
        address to_,
        address from_,
        address contract_,
        bytes32 rights_
    ) external view returns (bool);
}
