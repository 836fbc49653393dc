// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

import {OwnableDiamondStorage} from "./presets/OwnableDiamondStorage.sol";
import {InitializableStorage} from "./presets/InitializableStorage.sol";

/// @notice EIP-2535 diamond proxy: routes each call by selector to a facet via delegatecall.
/// @dev Same external surface as solarity's OwnableDiamond as used by the Morpheus marketplace.
contract LumerinDiamond is OwnableDiamondStorage, InitializableStorage {
    using EnumerableSet for EnumerableSet.Bytes32Set;
    using EnumerableSet for EnumerableSet.AddressSet;

    enum FacetAction {
        Add,
        Replace,
        Remove
    }

    struct Facet {
        address facetAddress;
        FacetAction action;
        bytes4[] functionSelectors;
    }

    struct FacetInfo {
        address facetAddress;
        bytes4[] functionSelectors;
    }

    struct DStorage {
        mapping(bytes4 => address) selectorToFacet;
        mapping(address => EnumerableSet.Bytes32Set) facetToSelectors;
        EnumerableSet.AddressSet facets;
    }

    bytes32 public constant DIAMOND_STORAGE_SLOT = keccak256("diamond.standard.diamond.storage");

    event DiamondCut(Facet[] facets, address initFacet, bytes initData);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    function __LumerinDiamond_init() external initializer(DIAMOND_OWNABLE_STORAGE_SLOT) {
        _transferOwnership(msg.sender);
    }

    fallback() external payable {
        address facet_ = _getDiamondStorage().selectorToFacet[msg.sig];
        require(facet_ != address(0), "Diamond: selector is not registered");

        assembly {
            calldatacopy(0, 0, calldatasize())
            let result := delegatecall(gas(), facet_, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())

            switch result
            case 0 {
                revert(0, returndatasize())
            }
            default {
                return(0, returndatasize())
            }
        }
    }

    receive() external payable {}

    /////////////////////
    ///   OWNERSHIP   ///
    /////////////////////

    function transferOwnership(address newOwner_) external onlyOwner {
        require(newOwner_ != address(0), "DiamondOwnable: zero address owner");

        _transferOwnership(newOwner_);
    }

    function renounceOwnership() external onlyOwner {
        _transferOwnership(address(0));
    }

    function _transferOwnership(address newOwner_) private {
        DOStorage storage os = _getOwnableStorage();
        address previousOwner_ = os.owner;
        os.owner = newOwner_;

        emit OwnershipTransferred(previousOwner_, newOwner_);
    }

    ////////////////
    ///   CUTS   ///
    ////////////////

    function diamondCut(Facet[] memory facets_) external onlyOwner {
        _diamondCut(facets_, address(0), "");
    }

    function diamondCut(Facet[] memory facets_, address init_, bytes memory initData_) external onlyOwner {
        _diamondCut(facets_, init_, initData_);
    }

    function _diamondCut(Facet[] memory facets_, address init_, bytes memory initData_) private {
        for (uint256 i = 0; i < facets_.length; i++) {
            bytes4[] memory selectors_ = facets_[i].functionSelectors;
            address facet_ = facets_[i].facetAddress;

            require(selectors_.length > 0, "Diamond: no selectors provided");

            if (facets_[i].action == FacetAction.Add) {
                _addFacet(facet_, selectors_);
            } else if (facets_[i].action == FacetAction.Replace) {
                _replaceFacet(facet_, selectors_);
            } else {
                _removeFacet(facet_, selectors_);
            }
        }

        emit DiamondCut(facets_, init_, initData_);

        _initializeDiamondCut(init_, initData_);
    }

    function _addFacet(address facet_, bytes4[] memory selectors_) private {
        require(facet_.code.length > 0, "Diamond: facet is not a contract");

        DStorage storage ds = _getDiamondStorage();
        for (uint256 i = 0; i < selectors_.length; i++) {
            require(ds.selectorToFacet[selectors_[i]] == address(0), "Diamond: selector already added");

            ds.selectorToFacet[selectors_[i]] = facet_;
            ds.facetToSelectors[facet_].add(bytes32(selectors_[i]));
        }

        ds.facets.add(facet_);
    }

    function _removeFacet(address facet_, bytes4[] memory selectors_) private {
        DStorage storage ds = _getDiamondStorage();
        for (uint256 i = 0; i < selectors_.length; i++) {
            require(ds.selectorToFacet[selectors_[i]] == facet_, "Diamond: selector from another facet");

            ds.selectorToFacet[selectors_[i]] = address(0);
            ds.facetToSelectors[facet_].remove(bytes32(selectors_[i]));
        }

        if (ds.facetToSelectors[facet_].length() == 0) {
            ds.facets.remove(facet_);
        }
    }

    function _replaceFacet(address facet_, bytes4[] memory selectors_) private {
        require(facet_.code.length > 0, "Diamond: facet is not a contract");

        DStorage storage ds = _getDiamondStorage();
        for (uint256 i = 0; i < selectors_.length; i++) {
            bytes4 selector_ = selectors_[i];
            address oldFacet_ = ds.selectorToFacet[selector_];

            require(oldFacet_ != facet_, "Diamond: cannot replace to the same facet");
            require(oldFacet_ != address(0), "Diamond: no facet found for selector");

            ds.facetToSelectors[oldFacet_].remove(bytes32(selector_));
            if (ds.facetToSelectors[oldFacet_].length() == 0) {
                ds.facets.remove(oldFacet_);
            }

            ds.selectorToFacet[selector_] = facet_;
            ds.facetToSelectors[facet_].add(bytes32(selector_));
        }

        ds.facets.add(facet_);
    }

    function _initializeDiamondCut(address init_, bytes memory initData_) private {
        if (init_ == address(0)) {
            return;
        }

        (bool ok_, bytes memory returnData_) = init_.delegatecall(initData_);
        if (!ok_) {
            if (returnData_.length == 0) {
                revert("Diamond: initialization function reverted");
            }

            // Bubble up the initialiser's own revert reason.
            assembly {
                revert(add(returnData_, 32), mload(returnData_))
            }
        }
    }

    /////////////////
    ///   LOUPE   ///
    /////////////////

    function facets() external view returns (FacetInfo[] memory facets_) {
        DStorage storage ds = _getDiamondStorage();
        uint256 count_ = ds.facets.length();

        facets_ = new FacetInfo[](count_);
        for (uint256 i = 0; i < count_; i++) {
            address facet_ = ds.facets.at(i);

            facets_[i] = FacetInfo(facet_, facetFunctionSelectors(facet_));
        }
    }

    function facetFunctionSelectors(address facet_) public view returns (bytes4[] memory selectors_) {
        EnumerableSet.Bytes32Set storage set_ = _getDiamondStorage().facetToSelectors[facet_];

        selectors_ = new bytes4[](set_.length());
        for (uint256 i = 0; i < selectors_.length; i++) {
            selectors_[i] = bytes4(set_.at(i));
        }
    }

    function facetAddresses() external view returns (address[] memory) {
        return _getDiamondStorage().facets.values();
    }

    function facetAddress(bytes4 selector_) external view returns (address) {
        return _getDiamondStorage().selectorToFacet[selector_];
    }

    function _getDiamondStorage() private pure returns (DStorage storage ds_) {
        bytes32 slot_ = DIAMOND_STORAGE_SLOT;

        assembly {
            ds_.slot := slot_
        }
    }
}
