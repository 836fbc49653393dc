"""The Diamond's external ABI as descriptors (contracts-spec §3–§5), plus MOR ERC-20 and Multicall3."""

from __future__ import annotations

from app.chain.abi import Event, Function, event

# Struct tuple types, field order as in contracts-spec §3.
PROVIDER = "(string,uint256,uint128,uint128,uint256,bool)"
MODEL = "(bytes32,uint256,uint256,address,string,string[],uint128,bool)"
BID = "(address,bytes32,uint256,uint256,uint128,uint128)"
SESSION = "(address,bytes32,uint256,bytes,uint256,uint256,uint128,uint128,uint128,bool,bool)"
POOL = "(uint256,uint256,uint128,uint128)"
SD = "(int64,int64)"
MODEL_STATS = f"({SD},{SD},{SD},uint32)"
PROVIDER_MODEL_STATS = f"({SD},{SD},uint32,uint32,uint32)"
FACET_CUT = "(address,uint8,bytes4[])"
MULTICALL3_DEFAULT = "0xcA11bde05977b3631167028862bE2a173976CA11"

PAGE = ("uint256", "uint256")
ADDRESS_LIST = ("address[]", "uint256")
ID_LIST = ("bytes32[]", "uint256")


def _f(name: str, inputs: tuple[str, ...] = (), outputs: tuple[str, ...] = ()) -> Function:
    return Function(name, inputs, outputs)


# -- Diamond base, initialisers, owner setters --------------------------------------------------------------
DIAMOND_INIT = _f("__LumerinDiamond_init")
DIAMOND_CUT = _f("diamondCut", (f"{FACET_CUT}[]",))
OWNER = _f("owner", (), ("address",))
FACET_ADDRESS = _f("facetAddress", ("bytes4",), ("address",))
DELEGATION_INIT = _f("__Delegation_init", ("address",))
PROVIDER_REGISTRY_INIT = _f("__ProviderRegistry_init")
MODEL_REGISTRY_INIT = _f("__ModelRegistry_init")
MARKETPLACE_INIT = _f("__Marketplace_init", ("address", "uint256", "uint256"))
SESSION_ROUTER_INIT = _f("__SessionRouter_init", ("address", "uint128", f"{POOL}[]"))
PROVIDER_SET_MIN_STAKE = _f("providerSetMinStake", ("uint256",))
MODEL_SET_MIN_STAKE = _f("modelSetMinStake", ("uint256",))
SET_BID_FEE = _f("setMarketplaceBidFee", ("uint256",))
SET_MIN_MAX_PRICE = _f("setMinMaxBidPricePerSecond", ("uint256", "uint256"))
SET_MAX_SESSION_DURATION = _f("setMaxSessionDuration", ("uint128",))
WITHDRAW_FEE = _f("withdrawFee", ("address", "uint256"))

# -- ProviderRegistry ---------------------------------------------------------------------------------------
PROVIDER_REGISTER = _f("providerRegister", ("address", "uint256", "string"))
PROVIDER_DEREGISTER = _f("providerDeregister", ("address",))
GET_PROVIDER = _f("getProvider", ("address",), (PROVIDER,))
GET_PROVIDER_MIN_STAKE = _f("getProviderMinimumStake", (), ("uint256",))
GET_ACTIVE_PROVIDERS = _f("getActiveProviders", PAGE, ADDRESS_LIST)
GET_IS_PROVIDER_ACTIVE = _f("getIsProviderActive", ("address",), ("bool",))

# -- ModelRegistry ------------------------------------------------------------------------------------------
MODEL_REGISTER = _f("modelRegister", ("address", "bytes32", "bytes32", "uint256", "uint256", "string", "string[]"))
MODEL_DEREGISTER = _f("modelDeregister", ("bytes32",))
GET_MODEL_ID = _f("getModelId", ("address", "bytes32"), ("bytes32",))
GET_MODEL = _f("getModel", ("bytes32",), (MODEL,))
GET_MODEL_IDS = _f("getModelIds", PAGE, ID_LIST)
GET_ACTIVE_MODEL_IDS = _f("getActiveModelIds", PAGE, ID_LIST)
GET_MODEL_MIN_STAKE = _f("getModelMinimumStake", (), ("uint256",))
GET_IS_MODEL_ACTIVE = _f("getIsModelActive", ("bytes32",), ("bool",))

# -- Marketplace --------------------------------------------------------------------------------------------
POST_MODEL_BID = _f("postModelBid", ("address", "bytes32", "uint256"), ("bytes32",))
DELETE_MODEL_BID = _f("deleteModelBid", ("bytes32",))
GET_BID_ID = _f("getBidId", ("address", "bytes32", "uint256"), ("bytes32",))
GET_PROVIDER_MODEL_ID = _f("getProviderModelId", ("address", "bytes32"), ("bytes32",))
GET_BID_FEE = _f("getBidFee", (), ("uint256",))
GET_FEE_BALANCE = _f("getFeeBalance", (), ("uint256",))
GET_MIN_MAX_PRICE = _f("getMinMaxBidPricePerSecond", (), ("uint256", "uint256"))
GET_BID = _f("getBid", ("bytes32",), (BID,))
GET_TOKEN = _f("getToken", (), ("address",))
IS_BID_ACTIVE = _f("isBidActive", ("bytes32",), ("bool",))
GET_PROVIDER_ACTIVE_BIDS = _f("getProviderActiveBids", ("address", *PAGE), ID_LIST)
GET_MODEL_ACTIVE_BIDS = _f("getModelActiveBids", ("bytes32", *PAGE), ID_LIST)
GET_PROVIDER_BIDS = _f("getProviderBids", ("address", *PAGE), ID_LIST)
GET_MODEL_BIDS = _f("getModelBids", ("bytes32", *PAGE), ID_LIST)

# -- SessionRouter ------------------------------------------------------------------------------------------
OPEN_SESSION = _f("openSession", ("address", "uint256", "bool", "bytes", "bytes"), ("bytes32",))
CLOSE_SESSION = _f("closeSession", ("bytes", "bytes"))
CLAIM_FOR_PROVIDER = _f("claimForProvider", ("bytes32",))
WITHDRAW_USER_STAKES = _f("withdrawUserStakes", ("address", "uint8"))
SET_POOL_CONFIG = _f("setPoolConfig", ("uint256", POOL))
GET_SESSION_ID = _f("getSessionId", ("address", "address", "bytes32", "uint256"), ("bytes32",))
GET_SESSION_END = _f("getSessionEnd", ("uint256", "uint256", "uint128"), ("uint128",))
STAKE_TO_STIPEND = _f("stakeToStipend", ("uint256", "uint128"), ("uint256",))
STIPEND_TO_STAKE = _f("stipendToStake", ("uint256", "uint128"), ("uint256",))
GET_TODAYS_BUDGET = _f("getTodaysBudget", ("uint128",), ("uint256",))
GET_COMPUTE_BALANCE = _f("getComputeBalance", ("uint128",), ("uint256",))
TOTAL_MOR_SUPPLY = _f("totalMORSupply", ("uint128",), ("uint256",))
GET_USER_STAKES_ON_HOLD = _f("getUserStakesOnHold", ("address", "uint8"), ("uint256", "uint256"))
GET_SESSION = _f("getSession", ("bytes32",), (SESSION,))
GET_USER_SESSIONS = _f("getUserSessions", ("address", *PAGE), ID_LIST)
GET_PROVIDER_SESSIONS = _f("getProviderSessions", ("address", *PAGE), ID_LIST)
GET_MODEL_SESSIONS = _f("getModelSessions", ("bytes32", *PAGE), ID_LIST)
GET_POOLS = _f("getPools", (), (f"{POOL}[]",))
GET_POOL = _f("getPool", ("uint256",), (POOL,))
GET_FUNDING_ACCOUNT = _f("getFundingAccount", (), ("address",))
GET_TOTAL_SESSIONS = _f("getTotalSessions", ("address",), ("uint256",))
GET_PROVIDERS_TOTAL_CLAIMED = _f("getProvidersTotalClaimed", (), ("uint256",))
GET_IS_PROVIDER_APPROVAL_USED = _f("getIsProviderApprovalUsed", ("bytes",), ("bool",))
GET_MAX_SESSION_DURATION = _f("getMaxSessionDuration", (), ("uint128",))
GET_PROVIDER_MODEL_STATS = _f("getProviderModelStats", ("bytes32", "address"), (PROVIDER_MODEL_STATS,))
GET_MODEL_STATS = _f("getModelStats", ("bytes32",), (MODEL_STATS,))

# -- Delegation ---------------------------------------------------------------------------------------------
GET_REGISTRY = _f("getRegistry", (), ("address",))
IS_RIGHTS_DELEGATED = _f("isRightsDelegated", ("address", "address", "bytes32"), ("bool",))

# -- MOR ERC-20 ---------------------------------------------------------------------------------------------
BALANCE_OF = _f("balanceOf", ("address",), ("uint256",))
ALLOWANCE = _f("allowance", ("address", "address"), ("uint256",))
APPROVE = _f("approve", ("address", "uint256"), ("bool",))
INCREASE_ALLOWANCE = _f("increaseAllowance", ("address", "uint256"), ("bool",))
TRANSFER = _f("transfer", ("address", "uint256"), ("bool",))
TOTAL_SUPPLY = _f("totalSupply", (), ("uint256",))
DECIMALS = _f("decimals", (), ("uint8",))

# -- Multicall3 ---------------------------------------------------------------------------------------------
AGGREGATE = _f("aggregate", ("(address,bytes)[]",), ("uint256", "bytes[]"))
AGGREGATE3 = _f("aggregate3", ("(address,bool,bytes)[]",), ("(bool,bytes)[]",))

# -- Events -------------------------------------------------------------------------------------------------
SESSION_OPENED = event(
    "SessionOpened", ("address", "user", True), ("bytes32", "sessionId", True), ("address", "providerId", True)
)
SESSION_CLOSED = event(
    "SessionClosed", ("address", "user", True), ("bytes32", "sessionId", True), ("address", "providerId", True)
)
BID_POSTED = event(
    "MarketplaceBidPosted", ("address", "provider", True), ("bytes32", "modelId", True), ("uint256", "nonce")
)
BID_DELETED = event(
    "MarketplaceBidDeleted", ("address", "provider", True), ("bytes32", "modelId", True), ("uint256", "nonce")
)
EVENTS: tuple[Event, ...] = (
    SESSION_OPENED,
    SESSION_CLOSED,
    BID_POSTED,
    BID_DELETED,
    event("ProviderRegistered", ("address", "provider", True)),
    event("ProviderDeregistered", ("address", "provider", True)),
    event("ProviderMinimumStakeUpdated", ("uint256", "providerMinimumStake")),
    event("ModelRegisteredUpdated", ("address", "owner", True), ("bytes32", "modelId", True)),
    event("ModelDeregistered", ("address", "owner", True), ("bytes32", "modelId", True)),
    event("ModelMinimumStakeUpdated", ("uint256", "modelMinimumStake")),
    event("MaretplaceFeeUpdated", ("uint256", "bidFee")),
    event("MarketplaceBidMinMaxPriceUpdated", ("uint256", "bidMinPricePerSecond"), ("uint256", "bidMaxPricePerSecond")),
    event("UserWithdrawn", ("address", "user", True), ("uint256", "amount_")),
    event("DelegationRegistryUpdated", ("address", "registry")),
    event("Initialized", ("bytes32", "storageSlot")),
    event("OwnershipTransferred", ("address", "previousOwner", True), ("address", "newOwner", True)),
    event("Transfer", ("address", "from", True), ("address", "to", True), ("uint256", "value")),
    event("Approval", ("address", "owner", True), ("address", "spender", True), ("uint256", "value")),
)
EVENTS_BY_TOPIC: dict[bytes, Event] = {e.topic0: e for e in EVENTS}
