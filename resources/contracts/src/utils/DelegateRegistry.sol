// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Minimal delegate.xyz v2-compatible registry (contract- and all-level delegations).
/// @dev A delegation with rights 0 is a full delegation and satisfies a check for any rights.
contract DelegateRegistry {
    event DelegateAll(address indexed from, address indexed to, bytes32 rights, bool enable);
    event DelegateContract(
        address indexed from,
        address indexed to,
        address indexed contract_,
        bytes32 rights,
        bool enable
    );

    mapping(bytes32 => bool) private _delegations;

    function delegateAll(address to, bytes32 rights, bool enable) external payable returns (bytes32 hash) {
        hash = keccak256(abi.encode(rights, msg.sender, to, address(0), uint8(1)));
        _delegations[hash] = enable;

        emit DelegateAll(msg.sender, to, rights, enable);
    }

    function delegateContract(
        address to,
        address contract_,
        bytes32 rights,
        bool enable
    ) external payable returns (bytes32 hash) {
        hash = _contractHash(msg.sender, to, contract_, rights);
        _delegations[hash] = enable;

        emit DelegateContract(msg.sender, to, contract_, rights, enable);
    }

    function checkDelegateForAll(address to, address from, bytes32 rights) public view returns (bool) {
        if (_delegations[keccak256(abi.encode(bytes32(0), from, to, address(0), uint8(1)))]) {
            return true;
        }

        return rights != bytes32(0) && _delegations[keccak256(abi.encode(rights, from, to, address(0), uint8(1)))];
    }

    function checkDelegateForContract(
        address to,
        address from,
        address contract_,
        bytes32 rights
    ) external view returns (bool) {
        if (checkDelegateForAll(to, from, rights) || _delegations[_contractHash(from, to, contract_, bytes32(0))]) {
            return true;
        }

        return rights != bytes32(0) && _delegations[_contractHash(from, to, contract_, rights)];
    }

    function _contractHash(address from, address to, address contract_, bytes32 rights) private pure returns (bytes32) {
        return keccak256(abi.encode(rights, from, to, contract_, uint8(2)));
    }
}
