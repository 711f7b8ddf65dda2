// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {RFC9162} from "./RFC9162.sol";

/// @title Verifiable random draw of evaluation experts (专家随机抽取)
/// @notice The centre commits the eligible pool of a section (after avoidance, 回避) as the
/// RFC 9162 SHA-256 Merkle root of salted expert leaves, its size and the hash of its exclusion
/// list, naming the parties (at least two, one of them a supervisor of the region) whose seeds
/// make the randomness. Each party commits keccak256(abi.encode(drawId, party, secret)); only
/// when all have committed may anyone reveal. When the last secret is revealed the contract
/// derives the seed and k distinct pool positions by a Fisher-Yates shuffle of the virtual
/// array A = (0, 1, ..., poolSize - 1), cost O(k^2) in memory whatever the pool size:
///
///   seed  = keccak256(abi.encode(SEED_DOMAIN, drawId, poolRoot, poolSize, xor of all secrets))
///   x_j   = uint256(keccak256(abi.encode(seed, uint256 j)))            for j = 0, 1, 2, ...
///   pick i (i = 0, 1, ...): m = poolSize - i; take the next x_j, skipping any
///         x_j >= 2^256 - (2^256 mod m) (no modulo bias); r = i + x_j mod m;
///         position_i = A[r]; A[r] = A[i]
///
/// Alternates for refusals continue the same sequence. Positions go on chain, names do not:
/// the centre shows an entitled person the expert's leaf and its inclusion proof, which
/// `checkExpert` verifies. A party that does not commit or reveal in its window lets anyone
/// void the draw, the defaulters named; a new round needs fresh commitments.
contract ExpertDraw is AccessControl {
    /// @notice Domain tag of the seed derivation.
    bytes32 public constant SEED_DOMAIN = keccak256("LianzhengExpertDraw.seed.v1");
    /// @notice Most positions (first draw plus alternates) one draw may hold.
    uint32 public constant MAX_POSITIONS = 64;
    /// @notice Most parties contributing seeds to one draw.
    uint32 public constant MAX_PARTIES = 8;
    /// @notice Longest commit or reveal window.
    uint64 public constant MAX_WINDOW = 7 days;

    enum DrawState {
        None,
        Committing,
        Revealing,
        Drawn,
        Voided
    }

    enum Phase {
        None,
        Commit,
        Reveal
    }

    /// @notice What the centre commits to before any randomness exists.
    struct DrawRequest {
        uint32 region;
        string project;
        string section;
        bytes32 poolRoot;
        uint32 poolSize;
        bytes32 exclusionHash;
        uint32 k;
        address[] parties;
        uint64 commitWindow;
        uint64 revealWindow;
    }

    struct Draw {
        bytes32 sectionId;
        uint32 region;
        uint32 round;
        DrawState state;
        uint32 k;
        uint32 poolSize;
        uint32 parties;
        uint32 committed;
        uint32 revealed;
        uint64 commitEnds;
        uint64 revealWindow;
        uint64 revealEnds;
        uint64 refused;
        bytes32 poolRoot;
        bytes32 exclusionHash;
        bytes32 secretXor;
        bytes32 seed;
    }

    struct Party {
        bytes32 commitment;
        bool revealed;
    }

    mapping(bytes32 drawId => Draw) private _draws;
    mapping(bytes32 drawId => address[]) private _partyList;
    mapping(bytes32 drawId => mapping(address party => Party)) private _parties;
    mapping(bytes32 drawId => uint32[]) private _positions;
    mapping(bytes32 sectionId => uint32) private _rounds;

    /// @notice No draw with this id.
    error ExpertDrawUnknown(bytes32 drawId);
    /// @notice The section's latest draw is in progress or done: only a voided draw may be redrawn.
    error ExpertDrawNotRedrawable(bytes32 sectionId, uint32 round, DrawState state);
    /// @notice Pool empty or root zero, k outside 1..min(pool size, MAX_POSITIONS), or a window outside 1 s .. 7 days.
    error ExpertDrawInvalidRequest();
    /// @notice Parties must be 2..8 distinct non-zero accounts, at least one a supervisor of the region.
    error ExpertDrawInvalidParties();
    /// @notice The draw is not in the state this step needs.
    error ExpertDrawWrongState(bytes32 drawId, DrawState state);
    /// @notice Only the draw's parties commit and reveal seeds.
    error ExpertDrawNotParty(bytes32 drawId, address account);
    /// @notice A party commits once per draw, and reveals once.
    error ExpertDrawAlreadyDone(bytes32 drawId, address party);
    /// @notice No reveal before every party has committed.
    error ExpertDrawNotAllCommitted(bytes32 drawId, uint32 committed, uint32 parties);
    /// @notice The commit or reveal window has closed.
    error ExpertDrawWindowClosed(bytes32 drawId, uint64 windowEnds, uint64 blockTime);
    /// @notice The revealed secret is not the one the party committed to.
    error ExpertDrawSeedMismatch(bytes32 drawId, address party);
    /// @notice Nobody defaulted (yet): the draw cannot be voided.
    error ExpertDrawNotVoidable(bytes32 drawId, DrawState state);
    /// @notice No drawn expert with this ordinal, or it was replaced already.
    error ExpertDrawInvalidOrdinal(bytes32 drawId, uint32 ordinal);
    /// @notice Every position the pool (or MAX_POSITIONS) allows is drawn.
    error ExpertDrawPoolExhausted(bytes32 drawId, uint32 drawn);

    /// @notice A draw round was created for a section.
    event DrawCreated(
        bytes32 indexed drawId, bytes32 indexed sectionId, uint32 indexed region, uint32 round, string project, string section
    );
    /// @notice The eligible pool and the parties, fixed before any randomness exists.
    event PoolCommitted(
        bytes32 indexed drawId, bytes32 poolRoot, uint32 poolSize, bytes32 exclusionHash, uint32 k, address[] parties, uint64 commitEnds
    );
    /// @notice A party committed to its secret.
    event SeedCommitted(bytes32 indexed drawId, address indexed party, bytes32 commitment);
    /// @notice Every party committed: reveals are open until `revealEnds`.
    event RevealOpened(bytes32 indexed drawId, uint64 revealEnds);
    /// @notice A party revealed its secret.
    event SeedRevealed(bytes32 indexed drawId, address indexed party, bytes32 secret);
    /// @notice The seed and the drawn pool positions, in order.
    event ExpertsDrawn(bytes32 indexed drawId, bytes32 seed, uint32[] positions);
    /// @notice The draw was voided because the named parties did not commit or reveal in time.
    event DrawVoided(bytes32 indexed drawId, Phase phase, address[] defaulters);
    /// @notice A drawn expert refused or was unreachable; the next position of the shuffle replaces it.
    event ExpertReplaced(bytes32 indexed drawId, uint32 ordinal, bytes32 reason, uint32 newOrdinal, uint32 newPosition);

    /// @param admin account that grants the per-region centre and supervisor roles
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // --- identities ----------------------------------------------------------------

    /// @notice The role of the trading centre of `region` (GB/T 2260 code): creates draws.
    function centreRole(uint32 region) public pure returns (bytes32) {
        return keccak256(abi.encode("DRAW_CENTRE", region));
    }

    /// @notice The role of a supervisor (监管/见证) of `region`: at least one in every draw's parties.
    function supervisorRole(uint32 region) public pure returns (bytes32) {
        return keccak256(abi.encode("DRAW_SUPERVISOR", region));
    }

    /// @notice The id of a section: the same as TenderRules' (hash of region, project, section code).
    function sectionIdOf(uint32 region, string calldata project, string calldata section) public pure returns (bytes32) {
        return keccak256(abi.encode(region, project, section));
    }

    /// @notice The id of round `round` (1, 2, ...) of a section's draw.
    function drawIdOf(bytes32 sectionId, uint32 round) public pure returns (bytes32) {
        return keccak256(abi.encode(sectionId, round));
    }

    /// @notice What a party commits: binds the draw and the party, so nobody can copy a commitment.
    function commitmentOf(bytes32 drawId, address party, bytes32 secret) public pure returns (bytes32) {
        return keccak256(abi.encode(drawId, party, secret));
    }

    // --- the draw ------------------------------------------------------------------

    /// @notice Commit a section's pool and parties (centre only). A section is drawn once; a
    /// new round is possible only after the previous one was voided.
    function createDraw(DrawRequest calldata r) external onlyRole(centreRole(r.region)) returns (bytes32 drawId) {
        if (
            r.poolSize == 0 || r.poolRoot == bytes32(0) || r.k == 0 || r.k > r.poolSize || r.k > MAX_POSITIONS
                || r.commitWindow == 0 || r.commitWindow > MAX_WINDOW || r.revealWindow == 0 || r.revealWindow > MAX_WINDOW
        ) revert ExpertDrawInvalidRequest();
        bytes32 sectionId = sectionIdOf(r.region, r.project, r.section);
        uint32 round = _rounds[sectionId];
        if (round != 0) {
            DrawState last = _draws[drawIdOf(sectionId, round)].state;
            if (last != DrawState.Voided) revert ExpertDrawNotRedrawable(sectionId, round, last);
        }
        round += 1;
        _rounds[sectionId] = round;
        drawId = drawIdOf(sectionId, round);
        _setParties(drawId, r.region, r.parties);
        Draw storage d = _draws[drawId];
        d.sectionId = sectionId;
        d.region = r.region;
        d.round = round;
        d.state = DrawState.Committing;
        d.k = r.k;
        d.poolSize = r.poolSize;
        d.parties = uint32(r.parties.length);
        d.commitEnds = uint64(block.timestamp) + r.commitWindow;
        d.revealWindow = r.revealWindow;
        d.poolRoot = r.poolRoot;
        d.exclusionHash = r.exclusionHash;
        emit DrawCreated(drawId, sectionId, r.region, round, r.project, r.section);
        emit PoolCommitted(drawId, r.poolRoot, r.poolSize, r.exclusionHash, r.k, r.parties, d.commitEnds);
    }

    function _setParties(bytes32 drawId, uint32 region, address[] calldata parties) private {
        if (parties.length < 2 || parties.length > MAX_PARTIES) revert ExpertDrawInvalidParties();
        bool supervised = false;
        for (uint256 i = 0; i < parties.length; ++i) {
            address p = parties[i];
            if (p == address(0)) revert ExpertDrawInvalidParties();
            for (uint256 j = 0; j < i; ++j) {
                if (parties[j] == p) revert ExpertDrawInvalidParties();
            }
            if (hasRole(supervisorRole(region), p)) supervised = true;
        }
        if (!supervised) revert ExpertDrawInvalidParties();
        _partyList[drawId] = parties;
    }

    /// @notice A party commits to its secret, within the commit window.
    function commitSeed(bytes32 drawId, bytes32 commitment) external {
        Draw storage d = _draw(drawId);
        if (d.state != DrawState.Committing) revert ExpertDrawWrongState(drawId, d.state);
        if (block.timestamp >= d.commitEnds) revert ExpertDrawWindowClosed(drawId, d.commitEnds, uint64(block.timestamp));
        Party storage p = _party(drawId, d);
        if (p.commitment != bytes32(0) || commitment == bytes32(0)) revert ExpertDrawAlreadyDone(drawId, msg.sender);
        p.commitment = commitment;
        d.committed += 1;
        emit SeedCommitted(drawId, msg.sender, commitment);
        if (d.committed == d.parties) {
            d.state = DrawState.Revealing;
            d.revealEnds = uint64(block.timestamp) + d.revealWindow;
            emit RevealOpened(drawId, d.revealEnds);
        }
    }

    /// @notice A party reveals its secret once every party has committed; the last reveal draws.
    function revealSeed(bytes32 drawId, bytes32 secret) external {
        Draw storage d = _draw(drawId);
        if (d.state == DrawState.Committing) revert ExpertDrawNotAllCommitted(drawId, d.committed, d.parties);
        if (d.state != DrawState.Revealing) revert ExpertDrawWrongState(drawId, d.state);
        if (block.timestamp >= d.revealEnds) revert ExpertDrawWindowClosed(drawId, d.revealEnds, uint64(block.timestamp));
        Party storage p = _party(drawId, d);
        if (p.revealed) revert ExpertDrawAlreadyDone(drawId, msg.sender);
        if (commitmentOf(drawId, msg.sender, secret) != p.commitment) revert ExpertDrawSeedMismatch(drawId, msg.sender);
        p.revealed = true;
        d.secretXor ^= secret;
        d.revealed += 1;
        emit SeedRevealed(drawId, msg.sender, secret);
        if (d.revealed == d.parties) {
            d.seed = keccak256(abi.encode(SEED_DOMAIN, drawId, d.poolRoot, d.poolSize, d.secretXor));
            d.state = DrawState.Drawn;
            _extend(drawId, d, d.k);
            emit ExpertsDrawn(drawId, d.seed, _positions[drawId]);
        }
    }

    /// @notice Anyone may void a draw whose commit or reveal window passed with a party missing;
    /// the defaulting parties are named in the event.
    function voidDraw(bytes32 drawId) external {
        Draw storage d = _draw(drawId);
        Phase phase;
        if (d.state == DrawState.Committing && block.timestamp >= d.commitEnds) {
            phase = Phase.Commit;
        } else if (d.state == DrawState.Revealing && block.timestamp >= d.revealEnds) {
            phase = Phase.Reveal;
        } else {
            revert ExpertDrawNotVoidable(drawId, d.state);
        }
        address[] storage list = _partyList[drawId];
        address[] memory defaulters = new address[](list.length);
        uint256 n;
        for (uint256 i = 0; i < list.length; ++i) {
            Party storage p = _parties[drawId][list[i]];
            if (phase == Phase.Commit ? p.commitment == bytes32(0) : !p.revealed) defaulters[n++] = list[i];
        }
        assembly ("memory-safe") {
            mstore(defaulters, n)
        }
        d.state = DrawState.Voided;
        emit DrawVoided(drawId, phase, defaulters);
    }

    /// @notice The drawn expert at `ordinal` refused or cannot serve (centre only): the next
    /// position of the same shuffle replaces it.
    /// @param reason hash or short code of the reason (e.g. keccak256("refused"))
    function replaceExpert(bytes32 drawId, uint32 ordinal, bytes32 reason) external returns (uint32 position) {
        Draw storage d = _draw(drawId);
        _checkRole(centreRole(d.region));
        if (d.state != DrawState.Drawn) revert ExpertDrawWrongState(drawId, d.state);
        uint32[] storage drawn = _positions[drawId];
        if (ordinal >= drawn.length || (d.refused >> ordinal) & 1 == 1) revert ExpertDrawInvalidOrdinal(drawId, ordinal);
        d.refused |= uint64(1) << ordinal;
        _extend(drawId, d, 1);
        position = drawn[drawn.length - 1];
        emit ExpertReplaced(drawId, ordinal, reason, uint32(drawn.length - 1), position);
    }

    function _draw(bytes32 drawId) private view returns (Draw storage d) {
        d = _draws[drawId];
        if (d.state == DrawState.None) revert ExpertDrawUnknown(drawId);
    }

    function _party(bytes32 drawId, Draw storage d) private view returns (Party storage p) {
        p = _parties[drawId][msg.sender];
        address[] storage list = _partyList[drawId];
        for (uint256 i = 0; i < d.parties; ++i) {
            if (list[i] == msg.sender) return p;
        }
        revert ExpertDrawNotParty(drawId, msg.sender);
    }

    /// @dev Appends `count` further positions of the draw's shuffle (replayed from the start).
    function _extend(bytes32 drawId, Draw storage d, uint32 count) private {
        uint32[] storage drawn = _positions[drawId];
        uint256 have = drawn.length;
        uint256 limit = d.poolSize < MAX_POSITIONS ? d.poolSize : MAX_POSITIONS;
        if (have + count > limit) revert ExpertDrawPoolExhausted(drawId, uint32(have));
        uint32[] memory all = _shuffle(d.seed, d.poolSize, have + count);
        for (uint256 i = have; i < all.length; ++i) {
            drawn.push(all[i]);
        }
    }

    /// @dev The first `count` positions of the Fisher-Yates shuffle of 0..poolSize-1 under `seed`.
    /// Only moved entries of the virtual array are kept: at most one per pick.
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

    // --- reads and checks for supervisors and witnesses -------------------------------

    /// @notice The first `count` positions the shuffle of `seed` gives over a pool of `poolSize`.
    function positionsFor(bytes32 seed, uint32 poolSize, uint32 count) external pure returns (uint32[] memory) {
        if (poolSize == 0 || count > poolSize || count > MAX_POSITIONS) revert ExpertDrawInvalidRequest();
        return _shuffle(seed, poolSize, count);
    }

    /// @notice A draw's pool commitment, parties' progress and seed.
    function drawOf(bytes32 drawId) external view returns (Draw memory) {
        return _draws[drawId];
    }

    /// @notice The latest round of a section's draw (0 when none) and its id.
    function latestDraw(bytes32 sectionId) external view returns (uint32 round, bytes32 drawId) {
        round = _rounds[sectionId];
        drawId = round == 0 ? bytes32(0) : drawIdOf(sectionId, round);
    }

    /// @notice Every drawn position in order, alternates included.
    function positionsOf(bytes32 drawId) external view returns (uint32[] memory) {
        return _positions[drawId];
    }

    /// @notice The parties of a draw, their commitments and whether each revealed.
    function partiesOf(bytes32 drawId)
        external
        view
        returns (address[] memory parties, bytes32[] memory commitments, bool[] memory revealed)
    {
        parties = _partyList[drawId];
        commitments = new bytes32[](parties.length);
        revealed = new bool[](parties.length);
        for (uint256 i = 0; i < parties.length; ++i) {
            Party storage p = _parties[drawId][parties[i]];
            commitments[i] = p.commitment;
            revealed[i] = p.revealed;
        }
    }

    /// @notice Whether `leaf` (the expert's salted leaf data) sits at the position drawn as
    /// `ordinal`, by its RFC 9162 inclusion proof against the committed pool root.
    function checkExpert(bytes32 drawId, uint32 ordinal, bytes32 leaf, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        Draw storage d = _draws[drawId];
        uint32[] storage drawn = _positions[drawId];
        if (ordinal >= drawn.length) return false;
        bytes32 leafHash = sha256(abi.encodePacked(bytes1(0x00), leaf));
        (bytes32 root, bool ok) = RFC9162.rootFromInclusionProof(drawn[ordinal], d.poolSize, leafHash, proof);
        return ok && root == d.poolRoot;
    }
}
