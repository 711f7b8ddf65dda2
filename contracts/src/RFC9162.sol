// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title RFC 9162 Merkle inclusion proofs over SHA-256
/// @notice Leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right), as in
/// RFC 9162 section 2.1. Not OpenZeppelin MerkleProof: that one hashes sorted pairs with keccak.
library RFC9162 {
    /// @notice The root an inclusion proof yields for `leafHash` at `index` in a tree of `size`.
    /// @return root the recomputed root (zero when `ok` is false)
    /// @return ok false when the proof has the wrong length for this index and size
    function rootFromInclusionProof(uint256 index, uint256 size, bytes32 leafHash, bytes32[] calldata proof)
        internal
        pure
        returns (bytes32 root, bool ok)
    {
        if (index >= size) return (bytes32(0), false);
        uint256 fn = index;
        uint256 sn = size - 1;
        bytes32 r = leafHash;
        for (uint256 i = 0; i < proof.length; ++i) {
            if (sn == 0) return (bytes32(0), false);
            if (fn & 1 == 1 || fn == sn) {
                r = sha256(abi.encodePacked(bytes1(0x01), proof[i], r));
                while (fn & 1 == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            } else {
                r = sha256(abi.encodePacked(bytes1(0x01), r, proof[i]));
            }
            fn >>= 1;
            sn >>= 1;
        }
        if (sn != 0) return (bytes32(0), false);
        return (r, true);
    }
}
