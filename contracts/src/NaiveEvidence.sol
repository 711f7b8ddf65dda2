// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title One transaction per event: how simple evidence contracts do it
/// @notice Benchmark baseline only (scripts/bench ingest), never deployed by the notary.
contract NaiveEvidence {
    mapping(bytes32 evidenceHash => uint256 recordedAt) private _recordedAt;

    /// @notice The hash was recorded before.
    error NaiveEvidenceAlreadyRecorded(bytes32 evidenceHash);

    /// @notice An evidence hash was recorded.
    event EvidenceRecorded(bytes32 indexed evidenceHash, address indexed recorder, uint256 recordedAt);

    /// @notice Record one evidence hash with the block time.
    function record(bytes32 evidenceHash) external {
        if (_recordedAt[evidenceHash] != 0) revert NaiveEvidenceAlreadyRecorded(evidenceHash);
        _recordedAt[evidenceHash] = block.timestamp;
        emit EvidenceRecorded(evidenceHash, msg.sender, block.timestamp);
    }

    /// @notice When a hash was recorded (0 if never).
    function recordedAt(bytes32 evidenceHash) external view returns (uint256) {
        return _recordedAt[evidenceHash];
    }
}
