// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {RFC9162} from "./RFC9162.sol";
import {TenderRules} from "./TenderRules.sol";

/// @title Random draw of evaluation experts (专家随机抽取) that no single party can steer
/// @notice A draw of a tender section, once its bids are opened (the bidders, whom avoidance
/// needs, come from the TenderRules contract, not from the centre):
///
/// 1. Pools. The host centre names the committee's profile, its strata (speciality × venue ×
///    scope, each with a quota) and the seed parties. Each stratum's eligible pool (after
///    avoidance, 回避) is committed by the centre of the stratum's province - so in a
///    cross-province draw each province commits its own pool and keeps its roster - as the
///    RFC 9162 root of salted leaves, its size, the hash of its exclusion list and the registry
///    snapshot it derives from: the province's latest snapshot anchored before the draw.
/// 2. Commit. Each party deals a secret s with Feldman's scheme on BN254: commitments
///    C_l = a_l·G of a degree t-1 polynomial (C_0 = s·G), t = ⌊(n-1)/2⌋+1, and one share f(j+1)
///    per other party, sealed to that party's registered X25519 key.
/// 3. Acknowledge. Each party checks the shares it received; any complaint, or a missing
///    acknowledgement, voids the draw before any secret is known (a blind abort: nobody can
///    tell whether a new round would favour them).
/// 4. Reveal. Each party reveals s, checked s·G == C_0. A party that withholds is overridden:
///    after the reveal window any t others publish their shares (each checked against the
///    commitments), the contract interpolates s and checks it against C_0; the withholder is
///    named. The outcome was fixed when the last acknowledgement came in.
/// 5. Draw. seed = keccak256(abi.encode(SEED_DOMAIN, drawId, planHash, s_1..s_n)); stratum i
///    draws `quota` distinct positions of its pool by a Fisher-Yates shuffle seeded with
///    keccak256(abi.encode(seed, i)) (see `_shuffle`); cost O(k^2), flat in the pool size.
///    Replacements - a closed list of reasons, asked by the centre and co-signed by a
///    supervisor, counted, capped by the profile - continue the stratum's shuffle.
/// Names never come on chain: the province shows an entitled person a drawn expert's salted
/// leaf and inclusion proof, which `checkExpert` verifies.
contract ExpertDraw is AccessControl {
    bytes32 public constant SEED_DOMAIN = keccak256("LianzhengExpertDraw.seed.v2");
    /// @notice The role of an independent seed party (an alliance peer, the discipline commission).
    bytes32 public constant INDEPENDENT_ROLE = keccak256("DRAW_INDEPENDENT");
    bytes32 public constant REPLACEMENT_TYPEHASH =
        keccak256("Replacement(bytes32 drawId,uint32 stratum,uint32 ordinal,uint8 reason,uint32 count)");
    uint256 public constant MIN_PARTIES = 3;
    uint256 public constant MAX_PARTIES = 8;
    uint256 public constant MAX_STRATA = 8;
    /// @notice Most experts one draw seats (sum of the quotas).
    uint256 public constant MAX_EXPERTS = 32;
    uint64 public constant MIN_WINDOW = 10 minutes;
    uint64 public constant MAX_WINDOW = 7 days;
    /// @notice After the reveal window, this long for the others to publish a withholder's shares.
    uint64 public constant RECOVERY_PERIOD = 7 days;
    /// @notice A stratum's pool holds at least this many eligible experts per seat.
    uint32 public constant MIN_POOL_RATIO = 3;
    /// @notice A pool may derive only from a registry snapshot anchored this recently.
    uint64 public constant MAX_SNAPSHOT_AGE = 180 days;
    /// @notice Order of the BN254 group (alt_bn128, precompiles 0x06 and 0x07).
    uint256 public constant GROUP_ORDER = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 private constant _SEALED_SHARE_MAX = 256;

    enum DrawState {
        None,
        Pooling,
        Committing,
        Acknowledging,
        Revealing,
        Drawn,
        Voided
    }

    enum Phase {
        None,
        Pool,
        Commit,
        Acknowledge,
        Reveal
    }

    enum Venue {
        Main,
        Remote
    }

    /// @notice Why a drawn expert is replaced: the closed list (实施条例 Art. 48 and avoidance found late).
    enum Reason {
        None,
        Refused, // declined when contacted
        Absent, // did not come
        Conflict, // an avoidance ground (回避) found after the draw
        Unable, // ill or otherwise unable to serve
        Left // left during the evaluation (实施条例 Art. 48)
    }

    /// @notice Committee composition of a trading type (values and sources in rules/experts/profiles.json).
    struct Profile {
        uint8 minMembers;
        bool odd;
        uint8 expertsNum;
        uint8 expertsDen;
        uint8 maxReplacements;
    }

    struct Snapshot {
        bytes32 root;
        uint32 size;
        uint64 asOf;
        uint64 anchoredAt;
    }

    /// @notice A group of seats: `quota` experts of `speciality` (ASCII code) from `scope`
    /// (a 2-digit province or 4-digit city code) for the main or remote (异地) venue.
    struct Stratum {
        bytes32 speciality;
        Venue venue;
        uint32 scope;
        uint32 quota;
    }

    struct Pool {
        bytes32 root;
        uint32 size;
        bytes32 exclusionHash;
        uint32 snapshot;
    }

    struct DrawRequest {
        uint32 region;
        string project;
        string section;
        bytes32 profile;
        uint32 tendererReps;
        bytes avoidance; // canonical JSON of the avoidance inputs (tenderer, agency, departments, cooldown)
        Stratum[] strata;
        address[] parties;
        uint64 window;
    }

    struct Draw {
        bytes32 sectionId;
        uint32 region;
        uint32 round;
        DrawState state;
        bytes32 profile;
        uint32 strata;
        uint32 pooled;
        uint32 parties;
        uint32 threshold;
        uint32 progress; // pools, commitments, acknowledgements or known secrets, by state
        uint32 replacements;
        uint32 replacementCap; // the profile's, fixed when the draw is created
        uint64 createdAt;
        uint64 window;
        uint64 phaseEnds;
        bytes32 planHash;
        bytes32 seed;
    }

    struct Party {
        bool committed;
        bool acknowledged;
        bool known; // its secret is revealed or recovered
        bool recovered;
        bytes32 commitmentsHash;
        uint256 c0x;
        uint256 c0y;
        uint256 secret;
    }

    TenderRules public immutable tender;

    mapping(bytes32 profileId => Profile) private _profiles;
    mapping(uint32 province => Snapshot[]) private _snapshots;
    mapping(address account => bytes32 x25519) private _partyKeys;
    mapping(bytes32 drawId => Draw) private _draws;
    mapping(bytes32 drawId => Stratum[]) private _strata;
    mapping(bytes32 drawId => mapping(uint32 stratum => Pool)) private _pools;
    mapping(bytes32 drawId => address[]) private _partyList;
    mapping(bytes32 drawId => mapping(address party => Party)) private _parties;
    mapping(bytes32 drawId => mapping(address dealer => uint256[])) private _shareXs;
    mapping(bytes32 drawId => mapping(address dealer => uint256[])) private _shareValues;
    mapping(bytes32 drawId => mapping(address dealer => mapping(address recipient => bool))) private _published;
    mapping(bytes32 drawId => mapping(uint32 stratum => uint32[])) private _positions;
    mapping(bytes32 drawId => mapping(uint32 stratum => uint64)) private _replaced;
    mapping(bytes32 sectionId => uint32) private _rounds;

    error ExpertDrawUnknown(bytes32 drawId);
    error ExpertDrawUnknownProfile(bytes32 profile);
    /// @notice A profile needs min members ≥ 1, a share num/den with 0 < num ≤ den.
    error ExpertDrawInvalidProfile();
    /// @notice The committee (drawn experts + tenderer's representatives) breaks the profile.
    error ExpertDrawCommitteeBreaksProfile(bytes32 profile, uint32 experts, uint32 members);
    /// @notice Bids must be opened (TenderRules section in evaluation) before experts are drawn.
    error ExpertDrawTenderNotOpened(bytes32 sectionId);
    error ExpertDrawNotRedrawable(bytes32 sectionId, uint32 round, DrawState state);
    /// @notice Strata: 1..8, quotas ≥ 1 summing to ≤ 32, scopes as the venue requires, no duplicates;
    /// window 1 s .. 7 days.
    error ExpertDrawInvalidRequest();
    /// @notice Parties: 3..8 distinct accounts, each a centre, supervisor or independent party with
    /// an X25519 key; at least one supervisor and one independent; the centre's fewer than the threshold.
    error ExpertDrawInvalidParties();
    error ExpertDrawInvalidSnapshot();
    error ExpertDrawWrongState(bytes32 drawId, DrawState state);
    error ExpertDrawNotParty(bytes32 drawId, address account);
    error ExpertDrawAlreadyDone(bytes32 drawId, address party);
    error ExpertDrawWindowClosed(bytes32 drawId, uint64 windowEnds, uint64 blockTime);
    /// @notice Commitments: exactly `threshold` points on the curve, C_0 not the identity; one
    /// sealed share per other party (1..256 bytes), none for the dealer itself.
    error ExpertDrawInvalidCommitments(bytes32 drawId);
    error ExpertDrawSecretMismatch(bytes32 drawId, address party);
    error ExpertDrawInvalidShare(bytes32 drawId, address dealer, address recipient);
    error ExpertDrawNotVoidable(bytes32 drawId, DrawState state);
    /// @notice The pool of this stratum is already committed, belongs to another province, or
    /// does not fit its snapshot (size, age, or not the latest before the draw).
    error ExpertDrawInvalidPool(bytes32 drawId, uint32 stratum);
    error ExpertDrawInvalidOrdinal(bytes32 drawId, uint32 stratum, uint32 ordinal);
    error ExpertDrawReplacementRefused(bytes32 drawId);
    error ExpertDrawReplacementCap(bytes32 drawId, uint32 cap);
    error ExpertDrawPoolExhausted(bytes32 drawId, uint32 stratum);

    event ProfileSet(bytes32 indexed profileId, Profile profile);
    event RegistryAnchored(uint32 indexed province, uint32 indexed index, bytes32 root, uint32 size, uint64 asOf);
    event PartyKeySet(address indexed account, bytes32 key);
    event DrawCreated(
        bytes32 indexed drawId, bytes32 indexed sectionId, uint32 indexed region, uint32 round, string project, string section
    );
    event DrawPlanned(
        bytes32 indexed drawId, bytes32 profile, uint32 tendererReps, bytes avoidance, address[] parties, uint32 threshold
    );
    event StratumPlanned(bytes32 indexed drawId, uint32 indexed index, Stratum stratum);
    event PoolCommitted(bytes32 indexed drawId, uint32 indexed stratum, Pool pool);
    event CommitOpened(bytes32 indexed drawId, bytes32 planHash, uint64 commitEnds);
    event SeedCommitted(bytes32 indexed drawId, address indexed party, uint256[2][] commitments, bytes[] sealedShares);
    event AcknowledgeOpened(bytes32 indexed drawId, uint64 acknowledgeEnds);
    event SharesAcknowledged(bytes32 indexed drawId, address indexed party);
    event RevealOpened(bytes32 indexed drawId, uint64 revealEnds, uint64 recoverEnds);
    event SeedRevealed(bytes32 indexed drawId, address indexed party, uint256 secret);
    event SharePublished(bytes32 indexed drawId, address indexed dealer, address indexed recipient, uint256 share);
    /// @notice `party` withheld its secret; `t` others' shares gave it back.
    event SecretRecovered(bytes32 indexed drawId, address indexed party, uint256 secret);
    event ExpertsDrawn(bytes32 indexed drawId, bytes32 seed);
    event StratumDrawn(bytes32 indexed drawId, uint32 indexed stratum, uint32[] positions);
    /// @notice Voided: the named parties did not act in time (pool phase: none), or a complaint:
    /// (dealer, complainant).
    event DrawVoided(bytes32 indexed drawId, Phase phase, address[] defaulters);
    event ExpertReplaced(
        bytes32 indexed drawId,
        uint32 indexed stratum,
        uint32 ordinal,
        Reason reason,
        address supervisor,
        uint32 newOrdinal,
        uint32 newPosition,
        uint32 count
    );

    /// @param admin grants the centre, supervisor, registrar and independent roles and sets profiles
    /// @param tenderRules the tender contract the sections (and their bidders) come from
    constructor(address admin, TenderRules tenderRules) {
        if (address(tenderRules) == address(0)) revert ExpertDrawInvalidRequest();
        tender = tenderRules;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // --- identities ----------------------------------------------------------------

    /// @notice The EIP-712 domain of replacement co-signatures: name "LianzhengExpertDraw",
    /// version "2", this chain and contract (written out: OpenZeppelin's EIP712 with its ERC-5267
    /// getter does not fit in the 24 KiB code limit alongside the draw).
    function domainSeparator() public view returns (bytes32) {
        return keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("LianzhengExpertDraw"),
                keccak256("2"),
                block.chainid,
                address(this)
            )
        );
    }

    /// @notice A trading centre of `region` (6-digit GB/T 2260 code): draws for its sections;
    /// the centre of a province (code xx0000) commits that province's pools in others' draws.
    function centreRole(uint32 region) public pure returns (bytes32) {
        return keccak256(abi.encode("DRAW_CENTRE", region));
    }

    function supervisorRole(uint32 region) public pure returns (bytes32) {
        return keccak256(abi.encode("DRAW_SUPERVISOR", region));
    }

    /// @notice Keeps a province's (2-digit code) expert registry and anchors its snapshots.
    function registrarRole(uint32 province) public pure returns (bytes32) {
        return keccak256(abi.encode("DRAW_REGISTRAR", province));
    }

    function sectionIdOf(uint32 region, string calldata project, string calldata section) public pure returns (bytes32) {
        return keccak256(abi.encode(region, project, section));
    }

    function drawIdOf(bytes32 sectionId, uint32 round) public pure returns (bytes32) {
        return keccak256(abi.encode(sectionId, round));
    }

    /// @notice Shares needed to recover a withheld secret of a draw with `parties` parties.
    function thresholdOf(uint256 parties) public pure returns (uint32) {
        return uint32((parties - 1) / 2 + 1);
    }

    function setProfile(bytes32 profileId, Profile calldata p) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (p.minMembers == 0 || p.expertsNum == 0 || p.expertsDen < p.expertsNum) revert ExpertDrawInvalidProfile();
        _profiles[profileId] = p;
        emit ProfileSet(profileId, p);
    }

    /// @notice Anchor a snapshot of a province's expert registry (salted Merkle root of its records).
    function anchorRegistry(uint32 province, bytes32 root, uint32 size, uint64 asOf)
        external
        onlyRole(registrarRole(province))
        returns (uint32 index)
    {
        if (root == bytes32(0) || size == 0 || asOf > block.timestamp) revert ExpertDrawInvalidSnapshot();
        Snapshot[] storage list = _snapshots[province];
        list.push(Snapshot(root, size, asOf, uint64(block.timestamp)));
        index = uint32(list.length);
        emit RegistryAnchored(province, index, root, size, asOf);
    }

    /// @notice A seed party's X25519 key, to which the others seal its shares.
    function setPartyKey(bytes32 key) external {
        _partyKeys[msg.sender] = key;
        emit PartyKeySet(msg.sender, key);
    }

    // --- creating a draw and its pools ---------------------------------------------

    /// @notice Plan a draw for a section whose bids are opened (host centre only); pools follow.
    function createDraw(DrawRequest calldata r) external onlyRole(centreRole(r.region)) returns (bytes32 drawId) {
        if (r.window < MIN_WINDOW || r.window > MAX_WINDOW || r.avoidance.length > 4096) revert ExpertDrawInvalidRequest();
        bytes32 sectionId = sectionIdOf(r.region, r.project, r.section);
        if (tender.sectionStateOf(sectionId) != TenderRules.SectionState.Evaluation) {
            revert ExpertDrawTenderNotOpened(sectionId);
        }
        uint32 round = _rounds[sectionId];
        if (round != 0) {
            DrawState last = _draws[drawIdOf(sectionId, round)].state;
            if (last != DrawState.Voided) revert ExpertDrawNotRedrawable(sectionId, round, last);
        }
        round += 1;
        _rounds[sectionId] = round;
        drawId = drawIdOf(sectionId, round);
        (uint32 experts, bytes32 strataHash) = _setStrata(drawId, r.region, r.strata);
        _checkCommittee(r.profile, experts, r.tendererReps);
        uint32 threshold = _setParties(drawId, r.region, r.parties);
        Draw storage d = _draws[drawId];
        d.sectionId = sectionId;
        d.region = r.region;
        d.round = round;
        d.state = DrawState.Pooling;
        d.profile = r.profile;
        d.strata = uint32(r.strata.length);
        d.parties = uint32(r.parties.length);
        d.threshold = threshold;
        d.createdAt = uint64(block.timestamp);
        d.window = r.window;
        d.phaseEnds = uint64(block.timestamp) + r.window;
        d.replacementCap = _profiles[r.profile].maxReplacements;
        d.planHash = keccak256(abi.encode(drawId, r.profile, r.tendererReps, keccak256(r.avoidance), strataHash, r.parties));
        emit DrawCreated(drawId, sectionId, r.region, round, r.project, r.section);
        emit DrawPlanned(drawId, r.profile, r.tendererReps, r.avoidance, r.parties, threshold);
    }

    function _checkCommittee(bytes32 profileId, uint32 experts, uint32 reps) private view {
        Profile storage p = _profiles[profileId];
        if (p.minMembers == 0) revert ExpertDrawUnknownProfile(profileId);
        uint32 members = experts + reps;
        if (
            members < p.minMembers || (p.odd && members % 2 == 0)
                || uint256(experts) * p.expertsDen < uint256(members) * p.expertsNum
        ) revert ExpertDrawCommitteeBreaksProfile(profileId, experts, members);
    }

    function _setStrata(bytes32 drawId, uint32 region, Stratum[] calldata strata)
        private
        returns (uint32 experts, bytes32 strataHash)
    {
        if (strata.length == 0 || strata.length > MAX_STRATA) revert ExpertDrawInvalidRequest();
        uint32 province = region / 10000;
        uint32 city = region / 100;
        Stratum[] storage list = _strata[drawId];
        for (uint256 i = 0; i < strata.length; ++i) {
            Stratum calldata s = strata[i];
            bool scoped = s.venue == Venue.Main
                ? s.scope == province
                : (s.scope >= 10 && s.scope < 100 && s.scope != province)
                    || (s.scope >= 1000 && s.scope < 10000 && s.scope / 100 == province && s.scope != city);
            if (!scoped || s.quota == 0 || s.speciality == bytes32(0)) revert ExpertDrawInvalidRequest();
            for (uint256 j = 0; j < i; ++j) {
                Stratum calldata o = strata[j];
                if (o.speciality == s.speciality && o.venue == s.venue && o.scope == s.scope) {
                    revert ExpertDrawInvalidRequest();
                }
            }
            experts += s.quota;
            list.push(s);
            strataHash = keccak256(abi.encode(strataHash, s));
            emit StratumPlanned(drawId, uint32(i), s);
        }
        if (experts > MAX_EXPERTS) revert ExpertDrawInvalidRequest();
    }

    function _setParties(bytes32 drawId, uint32 region, address[] calldata parties) private returns (uint32 threshold) {
        if (parties.length < MIN_PARTIES || parties.length > MAX_PARTIES) revert ExpertDrawInvalidParties();
        threshold = thresholdOf(parties.length);
        bytes32 centre = centreRole(region);
        bytes32 provinceCentre = centreRole(region - region % 10000);
        uint256 centres = 0;
        uint256 supervisors = 0;
        uint256 independents = 0;
        for (uint256 i = 0; i < parties.length; ++i) {
            address p = parties[i];
            if (_partyKeys[p] == bytes32(0)) revert ExpertDrawInvalidParties();
            for (uint256 j = 0; j < i; ++j) {
                if (parties[j] == p) revert ExpertDrawInvalidParties();
            }
            if (hasRole(centre, p) || hasRole(provinceCentre, p)) {
                ++centres; // counted as the centre's whatever other role it holds
            } else if (hasRole(supervisorRole(region), p)) {
                ++supervisors;
            } else if (hasRole(INDEPENDENT_ROLE, p)) {
                ++independents;
            } else {
                revert ExpertDrawInvalidParties(); // nobody the centre simply names
            }
        }
        if (
            supervisors == 0 || independents == 0 || centres >= threshold || supervisors >= threshold
                || independents >= threshold
        ) revert ExpertDrawInvalidParties(); // no one kind of party can recover the others' secrets
        _partyList[drawId] = parties;
    }

    /// @notice Commit the eligible pool of stratum `index` (the centre of the stratum's province;
    /// the host centre for its own province), derived from `pool.snapshot`, the province's latest
    /// registry snapshot anchored before the draw was created.
    function commitPool(bytes32 drawId, uint32 index, Pool calldata pool) external {
        Draw storage d = _draw(drawId);
        if (d.state != DrawState.Pooling) revert ExpertDrawWrongState(drawId, d.state);
        if (block.timestamp >= d.phaseEnds) revert ExpertDrawWindowClosed(drawId, d.phaseEnds, uint64(block.timestamp));
        if (index >= d.strata || _pools[drawId][index].root != bytes32(0)) revert ExpertDrawInvalidPool(drawId, index);
        Stratum storage s = _strata[drawId][index];
        uint32 provinceRegion = s.scope < 100 ? s.scope * 10000 : (s.scope - s.scope % 100) * 100;
        uint32 province = provinceRegion / 10000;
        _checkRole(provinceRegion == d.region - d.region % 10000 ? centreRole(d.region) : centreRole(provinceRegion));
        _checkSnapshot(drawId, index, d, province, pool);
        if (pool.root == bytes32(0) || pool.size < s.quota * MIN_POOL_RATIO) revert ExpertDrawInvalidPool(drawId, index);
        _pools[drawId][index] = pool;
        emit PoolCommitted(drawId, index, pool);
        d.pooled += 1;
        if (d.pooled == d.strata) {
            bytes32 h = d.planHash;
            for (uint32 i = 0; i < d.strata; ++i) {
                h = keccak256(abi.encode(h, _pools[drawId][i]));
            }
            d.planHash = h;
            d.state = DrawState.Committing;
            d.phaseEnds = uint64(block.timestamp) + d.window;
            emit CommitOpened(drawId, h, d.phaseEnds);
        }
    }

    function _checkSnapshot(bytes32 drawId, uint32 index, Draw storage d, uint32 province, Pool calldata pool)
        private
        view
    {
        Snapshot[] storage list = _snapshots[province];
        uint256 i = pool.snapshot;
        if (
            i == 0 || i > list.length || list[i - 1].anchoredAt >= d.createdAt
                || (i < list.length && list[i].anchoredAt < d.createdAt)
                || list[i - 1].anchoredAt + MAX_SNAPSHOT_AGE < d.createdAt || pool.size > list[i - 1].size
        ) revert ExpertDrawInvalidPool(drawId, index);
    }

    // --- the seed --------------------------------------------------------------------

    /// @notice Deal this party's secret: `threshold` Feldman commitments and one sealed share per
    /// other party (empty at the dealer's own index), within the commit window.
    function commitSeed(bytes32 drawId, uint256[2][] calldata commitments, bytes[] calldata sealedShares) external {
        Draw storage d = _inPhase(drawId, DrawState.Committing);
        (Party storage p, uint256 me) = _party(drawId, d);
        if (p.committed) revert ExpertDrawAlreadyDone(drawId, msg.sender);
        if (commitments.length != d.threshold || sealedShares.length != d.parties) {
            revert ExpertDrawInvalidCommitments(drawId);
        }
        for (uint256 j = 0; j < sealedShares.length; ++j) {
            uint256 len = sealedShares[j].length;
            if (j == me ? len != 0 : (len == 0 || len > _SEALED_SHARE_MAX)) revert ExpertDrawInvalidCommitments(drawId);
        }
        for (uint256 l = 0; l < commitments.length; ++l) {
            (bool onCurve,,) = _ecAdd(commitments[l][0], commitments[l][1], 0, 0);
            if (!onCurve) revert ExpertDrawInvalidCommitments(drawId);
        }
        if (commitments[0][0] == 0 && commitments[0][1] == 0) revert ExpertDrawInvalidCommitments(drawId);
        p.committed = true;
        p.commitmentsHash = keccak256(abi.encode(commitments));
        p.c0x = commitments[0][0];
        p.c0y = commitments[0][1];
        emit SeedCommitted(drawId, msg.sender, commitments, sealedShares);
        d.progress += 1;
        if (d.progress == d.parties) {
            d.state = DrawState.Acknowledging;
            d.progress = 0;
            d.phaseEnds = uint64(block.timestamp) + d.window;
            emit AcknowledgeOpened(drawId, d.phaseEnds);
        }
    }

    /// @notice Every share this party received checks against its dealer's commitments.
    function acknowledgeShares(bytes32 drawId) external {
        Draw storage d = _inPhase(drawId, DrawState.Acknowledging);
        (Party storage p,) = _party(drawId, d);
        if (p.acknowledged) revert ExpertDrawAlreadyDone(drawId, msg.sender);
        p.acknowledged = true;
        emit SharesAcknowledged(drawId, msg.sender);
        d.progress += 1;
        if (d.progress == d.parties) {
            d.state = DrawState.Revealing;
            d.progress = 0;
            d.phaseEnds = uint64(block.timestamp) + d.window;
            emit RevealOpened(drawId, d.phaseEnds, d.phaseEnds + RECOVERY_PERIOD);
        }
    }

    /// @notice The share `dealer` sealed to this party does not open or does not check: the draw
    /// is void before any secret is known; dealer and complainant are named.
    function complain(bytes32 drawId, address dealer) external {
        Draw storage d = _inPhase(drawId, DrawState.Acknowledging);
        _party(drawId, d);
        if (dealer == msg.sender || !_isParty(drawId, dealer)) revert ExpertDrawNotParty(drawId, dealer);
        address[] memory named = new address[](2);
        named[0] = dealer;
        named[1] = msg.sender;
        d.state = DrawState.Voided;
        emit DrawVoided(drawId, Phase.Acknowledge, named);
    }

    /// @notice Reveal this party's secret, checked against its commitment C_0 = s·G.
    function revealSeed(bytes32 drawId, uint256 secret) external {
        Draw storage d = _inPhase(drawId, DrawState.Revealing);
        (Party storage p,) = _party(drawId, d);
        if (p.known) revert ExpertDrawAlreadyDone(drawId, msg.sender);
        if (!_opens(p, secret)) revert ExpertDrawSecretMismatch(drawId, msg.sender);
        p.known = true;
        p.secret = secret;
        emit SeedRevealed(drawId, msg.sender, secret);
        _learned(drawId, d);
    }

    /// @notice After the reveal window, a party publishes the share `dealer` (who withheld its
    /// secret) dealt it; the `threshold`-th valid share recovers the secret. Open for
    /// RECOVERY_PERIOD, long enough that only parties holding `threshold` shares together can stop it.
    function publishShare(bytes32 drawId, address dealer, uint256 share, uint256[2][] calldata commitments) external {
        Draw storage d = _draw(drawId);
        if (d.state != DrawState.Revealing) revert ExpertDrawWrongState(drawId, d.state);
        uint64 recoverEnds = d.phaseEnds + RECOVERY_PERIOD;
        if (block.timestamp < d.phaseEnds || block.timestamp >= recoverEnds) {
            revert ExpertDrawWindowClosed(drawId, block.timestamp < d.phaseEnds ? d.phaseEnds : recoverEnds, uint64(block.timestamp));
        }
        (, uint256 me) = _party(drawId, d);
        Party storage dp = _parties[drawId][dealer];
        if (!_isParty(drawId, dealer) || dealer == msg.sender || dp.known || _published[drawId][dealer][msg.sender]) {
            revert ExpertDrawInvalidShare(drawId, dealer, msg.sender);
        }
        if (keccak256(abi.encode(commitments)) != dp.commitmentsHash || !_shareChecks(commitments, me + 1, share)) {
            revert ExpertDrawInvalidShare(drawId, dealer, msg.sender);
        }
        _published[drawId][dealer][msg.sender] = true;
        _shareXs[drawId][dealer].push(me + 1);
        _shareValues[drawId][dealer].push(share);
        emit SharePublished(drawId, dealer, msg.sender, share);
        if (_shareXs[drawId][dealer].length == d.threshold) {
            uint256 secret = _interpolate(_shareXs[drawId][dealer], _shareValues[drawId][dealer]);
            if (!_opens(dp, secret)) revert ExpertDrawInvalidShare(drawId, dealer, msg.sender); // unreachable: shares checked
            dp.known = true;
            dp.recovered = true;
            dp.secret = secret;
            emit SecretRecovered(drawId, dealer, secret);
            _learned(drawId, d);
        }
    }

    function _learned(bytes32 drawId, Draw storage d) private {
        d.progress += 1;
        if (d.progress < d.parties) return;
        address[] storage list = _partyList[drawId];
        uint256[] memory secrets = new uint256[](list.length);
        for (uint256 i = 0; i < list.length; ++i) {
            secrets[i] = _parties[drawId][list[i]].secret;
        }
        bytes32 seed = keccak256(abi.encode(SEED_DOMAIN, drawId, d.planHash, secrets));
        d.seed = seed;
        d.state = DrawState.Drawn;
        emit ExpertsDrawn(drawId, seed);
        for (uint32 s = 0; s < d.strata; ++s) {
            _extend(drawId, s, _strata[drawId][s].quota);
            emit StratumDrawn(drawId, s, _positions[drawId][s]);
        }
    }

    /// @notice Anyone may void a draw whose window passed with someone missing: the pool phase
    /// (no one named), commitments, acknowledgements, or - after the recovery period - secrets
    /// neither revealed nor recovered (the withholders named).
    function voidDraw(bytes32 drawId) external {
        Draw storage d = _draw(drawId);
        Phase phase;
        uint64 ends = d.phaseEnds;
        if (d.state == DrawState.Pooling) phase = Phase.Pool;
        else if (d.state == DrawState.Committing) phase = Phase.Commit;
        else if (d.state == DrawState.Acknowledging) phase = Phase.Acknowledge;
        else if (d.state == DrawState.Revealing) (phase, ends) = (Phase.Reveal, ends + RECOVERY_PERIOD);
        if (phase == Phase.None || block.timestamp < ends) revert ExpertDrawNotVoidable(drawId, d.state);
        address[] storage list = _partyList[drawId];
        address[] memory defaulters = new address[](list.length);
        uint256 n;
        for (uint256 i = 0; i < list.length && phase != Phase.Pool; ++i) {
            Party storage p = _parties[drawId][list[i]];
            bool missing = phase == Phase.Commit ? !p.committed : phase == Phase.Acknowledge ? !p.acknowledged : !p.known;
            if (missing) defaulters[n++] = list[i];
        }
        assembly ("memory-safe") {
            mstore(defaulters, n)
        }
        d.state = DrawState.Voided;
        emit DrawVoided(drawId, phase, defaulters);
    }

    // --- replacements ----------------------------------------------------------------

    /// @notice Replace the expert drawn as `ordinal` of `stratum` for `reason`: asked by the host
    /// centre, co-signed by a supervisor of the region (EIP-712 Replacement, over the running
    /// count so a signature serves once); the next position of the stratum's shuffle takes the
    /// seat. At most the profile's `maxReplacements` per draw.
    function replaceExpert(
        bytes32 drawId,
        uint32 stratum,
        uint32 ordinal,
        Reason reason,
        bytes calldata supervisorSignature
    ) external returns (uint32 position) {
        Draw storage d = _draw(drawId);
        _checkRole(centreRole(d.region));
        if (d.state != DrawState.Drawn) revert ExpertDrawWrongState(drawId, d.state);
        uint32 cap = d.replacementCap;
        if (d.replacements >= cap) revert ExpertDrawReplacementCap(drawId, cap);
        if (stratum >= d.strata) revert ExpertDrawInvalidOrdinal(drawId, stratum, ordinal);
        uint32[] storage drawn = _positions[drawId][stratum];
        if (ordinal >= drawn.length || (_replaced[drawId][stratum] >> ordinal) & 1 == 1) {
            revert ExpertDrawInvalidOrdinal(drawId, stratum, ordinal);
        }
        address supervisor = _supervisorOf(drawId, d, stratum, ordinal, reason, supervisorSignature);
        _replaced[drawId][stratum] |= uint64(1) << ordinal;
        d.replacements += 1;
        _extend(drawId, stratum, 1);
        position = drawn[drawn.length - 1];
        emit ExpertReplaced(
            drawId, stratum, ordinal, reason, supervisor, uint32(drawn.length - 1), position, d.replacements
        );
    }

    function _supervisorOf(
        bytes32 drawId,
        Draw storage d,
        uint32 stratum,
        uint32 ordinal,
        Reason reason,
        bytes calldata signature
    ) private view returns (address signer) {
        if (reason == Reason.None) revert ExpertDrawReplacementRefused(drawId);
        bytes32 digest = MessageHashUtils.toTypedDataHash(
            domainSeparator(),
            keccak256(abi.encode(REPLACEMENT_TYPEHASH, drawId, stratum, ordinal, uint8(reason), d.replacements))
        );
        ECDSA.RecoverError err;
        (signer, err,) = ECDSA.tryRecover(digest, signature);
        if (
            err != ECDSA.RecoverError.NoError || !hasRole(supervisorRole(d.region), signer)
                || hasRole(centreRole(d.region), signer) || !_isParty(drawId, signer)
        ) revert ExpertDrawReplacementRefused(drawId);
    }

    // --- internals -------------------------------------------------------------------

    function _draw(bytes32 drawId) private view returns (Draw storage d) {
        d = _draws[drawId];
        if (d.state == DrawState.None) revert ExpertDrawUnknown(drawId);
    }

    function _inPhase(bytes32 drawId, DrawState state) private view returns (Draw storage d) {
        d = _draw(drawId);
        if (d.state != state) revert ExpertDrawWrongState(drawId, d.state);
        if (block.timestamp >= d.phaseEnds) revert ExpertDrawWindowClosed(drawId, d.phaseEnds, uint64(block.timestamp));
    }

    function _party(bytes32 drawId, Draw storage d) private view returns (Party storage, uint256) {
        address[] storage list = _partyList[drawId];
        uint256 i = 0;
        while (i < d.parties && list[i] != msg.sender) ++i;
        if (i == d.parties) revert ExpertDrawNotParty(drawId, msg.sender);
        return (_parties[drawId][msg.sender], i);
    }

    function _isParty(bytes32 drawId, address account) private view returns (bool) {
        address[] storage list = _partyList[drawId];
        for (uint256 i = 0; i < list.length; ++i) {
            if (list[i] == account) return true;
        }
        return false;
    }

    function _opens(Party storage p, uint256 secret) private view returns (bool) {
        if (secret == 0 || secret >= GROUP_ORDER) return false;
        (uint256 x, uint256 y) = _ecMul(1, 2, secret);
        return x == p.c0x && y == p.c0y;
    }

    /// @dev Feldman: share·G == Σ_l x^l·C_l.
    function _shareChecks(uint256[2][] calldata c, uint256 x, uint256 share) private view returns (bool) {
        if (share >= GROUP_ORDER) return false;
        (uint256 ax, uint256 ay) = (uint256(0), uint256(0));
        uint256 power = 1;
        for (uint256 l = 0; l < c.length; ++l) {
            (uint256 tx_, uint256 ty) = _ecMul(c[l][0], c[l][1], power);
            bool ok;
            (ok, ax, ay) = _ecAdd(ax, ay, tx_, ty);
            if (!ok) return false;
            power = mulmod(power, x, GROUP_ORDER);
        }
        (uint256 sx, uint256 sy) = _ecMul(1, 2, share);
        return sx == ax && sy == ay;
    }

    /// @dev Lagrange interpolation at 0 of the points (xs[i], ys[i]) modulo the group order.
    function _interpolate(uint256[] storage xs, uint256[] storage ys) private view returns (uint256 secret) {
        for (uint256 i = 0; i < xs.length; ++i) {
            uint256 num = 1;
            uint256 den = 1;
            for (uint256 m = 0; m < xs.length; ++m) {
                if (m == i) continue;
                num = mulmod(num, xs[m], GROUP_ORDER);
                den = mulmod(den, (xs[m] + GROUP_ORDER - xs[i]) % GROUP_ORDER, GROUP_ORDER);
            }
            uint256 li = mulmod(num, Math.invModPrime(den, GROUP_ORDER), GROUP_ORDER);
            secret = addmod(secret, mulmod(ys[i], li, GROUP_ORDER), GROUP_ORDER);
        }
    }

    function _ecAdd(uint256 ax, uint256 ay, uint256 bx, uint256 by) private view returns (bool ok, uint256 x, uint256 y) {
        uint256[4] memory input = [ax, ay, bx, by];
        uint256[2] memory out;
        assembly ("memory-safe") {
            ok := staticcall(gas(), 0x06, input, 0x80, out, 0x40)
        }
        (x, y) = (out[0], out[1]);
    }

    function _ecMul(uint256 px, uint256 py, uint256 scalar) private view returns (uint256 x, uint256 y) {
        uint256[3] memory input = [px, py, scalar];
        uint256[2] memory out;
        bool ok;
        assembly ("memory-safe") {
            ok := staticcall(gas(), 0x07, input, 0x60, out, 0x40)
        }
        if (!ok) return (0, 0);
        (x, y) = (out[0], out[1]);
    }

    /// @dev Appends `count` further positions of stratum `s`'s shuffle (replayed from the start).
    function _extend(bytes32 drawId, uint32 s, uint32 count) private {
        uint32[] storage drawn = _positions[drawId][s];
        uint256 have = drawn.length;
        uint32 size = _pools[drawId][s].size;
        if (have + count > size || have + count > 64) revert ExpertDrawPoolExhausted(drawId, s);
        uint32[] memory all = _shuffle(keccak256(abi.encode(_draws[drawId].seed, s)), size, have + count);
        for (uint256 i = have; i < all.length; ++i) {
            drawn.push(all[i]);
        }
    }

    /// @dev The first `count` positions of the Fisher-Yates shuffle of 0..poolSize-1 under `seed`:
    ///   x_j = uint256(keccak256(abi.encode(seed, j))), j = 0, 1, ...; pick i: m = poolSize - i,
    ///   skip x_j ≥ 2^256 - (2^256 mod m) (no modulo bias); r = i + x_j mod m; out_i = A[r]; A[r] = A[i].
    /// Only moved entries of the virtual array A = (0..poolSize-1) are kept: at most one per pick.
    function _shuffle(bytes32 seed, uint32 poolSize, uint256 count) private pure returns (uint32[] memory out) {
        out = new uint32[](count);
        uint256[] memory movedAt = new uint256[](count);
        uint256[] memory movedValue = new uint256[](count);
        uint256 moved = 0;
        uint256 j = 0;
        for (uint256 i = 0; i < count; ++i) {
            uint256 m = poolSize - i;
            uint256 rejectAbove = type(uint256).max - (type(uint256).max % m + 1) % m;
            uint256 x;
            do {
                x = uint256(keccak256(abi.encode(seed, j)));
                ++j;
            } while (x > rejectAbove);
            uint256 r = i + x % m;
            uint256 valueAtI = i;
            uint256 valueAtR = r;
            uint256 slotR = moved;
            for (uint256 t = 0; t < moved; ++t) {
                if (movedAt[t] == i) valueAtI = movedValue[t];
                if (movedAt[t] == r) {
                    valueAtR = movedValue[t];
                    slotR = t;
                }
            }
            out[i] = uint32(valueAtR);
            if (slotR == moved) {
                movedAt[moved] = r;
                ++moved;
            }
            movedValue[slotR] = valueAtI;
        }
    }

    // --- reads -----------------------------------------------------------------------

    function profileOf(bytes32 profileId) external view returns (Profile memory) {
        return _profiles[profileId];
    }

    function snapshotOf(uint32 province, uint32 index) external view returns (Snapshot memory) {
        return _snapshots[province][index - 1];
    }

    function partyKeyOf(address account) external view returns (bytes32) {
        return _partyKeys[account];
    }

    function drawOf(bytes32 drawId) external view returns (Draw memory) {
        return _draws[drawId];
    }

    /// @notice Every drawn position of a stratum in order, alternates included, and which were replaced.
    function positionsOf(bytes32 drawId, uint32 stratum) external view returns (uint32[] memory, uint64 replaced) {
        return (_positions[drawId][stratum], _replaced[drawId][stratum]);
    }

    /// @notice A draw's parties and, per party, 4 bits (from bit 4·i): committed, acknowledged,
    /// secret known, secret recovered (withheld). Commitments and secrets are in the events.
    function partiesOf(bytes32 drawId) external view returns (address[] memory parties, uint256 flags) {
        parties = _partyList[drawId];
        for (uint256 i = 0; i < parties.length; ++i) {
            Party storage p = _parties[drawId][parties[i]];
            uint256 f = (p.committed ? 1 : 0) | (p.acknowledged ? 2 : 0) | (p.known ? 4 : 0) | (p.recovered ? 8 : 0);
            flags |= f << (4 * i);
        }
    }

    /// @notice Whether `leaf` (a drawn expert's salted leaf) sits at the position drawn as
    /// `ordinal` of `stratum`, by its RFC 9162 inclusion proof against the committed pool root.
    function checkExpert(bytes32 drawId, uint32 stratum, uint32 ordinal, bytes32 leaf, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        uint32[] storage drawn = _positions[drawId][stratum];
        if (ordinal >= drawn.length) return false;
        Pool storage pool = _pools[drawId][stratum];
        bytes32 leafHash = sha256(abi.encodePacked(bytes1(0x00), leaf));
        (bytes32 root, bool ok) = RFC9162.rootFromInclusionProof(drawn[ordinal], pool.size, leafHash, proof);
        return ok && root == pool.root;
    }
}
