// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Local stand-in for MOR: 18 decimals, 42,000,000 MOR minted to the deployer.
contract MorpheusToken is ERC20 {
    uint256 public constant INITIAL_SUPPLY = 42_000_000 ether;

    constructor() ERC20("MOR", "MOR") {
        _mint(msg.sender, INITIAL_SUPPLY);
    }
}
