// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title RFC 9162 Merkle inclusion and consistency proofs over SHA-256
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
                r = _node(proof[i], r);
                while (fn & 1 == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            } else {
                r = _node(r, proof[i]);
            }
            fn >>= 1;
            sn >>= 1;
        }
        if (sn != 0) return (bytes32(0), false);
        return (r, true);
    }

    /// @notice Whether `proof` shows that the tree (`size1`, `root1`) is a prefix of the tree
    /// (`size2`, `root2`): RFC 9162 section 2.1.4.2, step by step, for 0 < size1 < size2.
    /// @dev Equal sizes and the empty first tree need no proof and are the caller's business;
    /// here they return false. The loop ends after at most log2(size2) + 1 steps whatever the
    /// proof's length (each step halves sn), so a long proof cannot buy unbounded gas.
    /// @param proof the SUBPROOF of RFC 9162 section 2.1.4.1, as `sdk.merkle` builds it
    function verifyConsistency(uint256 size1, uint256 size2, bytes32 root1, bytes32 root2, bytes32[] calldata proof)
        internal
        pure
        returns (bool)
    {
        // Step 1: an empty path fails.
        if (size1 == 0 || size1 >= size2 || proof.length == 0) return false;
        // Step 1 continued: when size1 is an exact power of two, first_hash is prepended to the
        // path. We start from it instead of copying the calldata array.
        uint256 next = 0;
        bytes32 fr;
        if (size1 & (size1 - 1) == 0) {
            fr = root1;
        } else {
            fr = proof[0];
            next = 1;
        }
        // Steps 2 and 3.
        uint256 fn = size1 - 1;
        uint256 sn = size2 - 1;
        while (fn & 1 == 1) {
            fn >>= 1;
            sn >>= 1;
        }
        // Step 4.
        bytes32 sr = fr;
        // Step 5.
        for (uint256 i = next; i < proof.length; ++i) {
            if (sn == 0) return false;
            bytes32 c = proof[i];
            if (fn & 1 == 1 || fn == sn) {
                fr = _node(c, fr);
                sr = _node(c, sr);
                while (fn & 1 == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            } else {
                sr = _node(sr, c);
            }
            fn >>= 1;
            sn >>= 1;
        }
        // Step 6.
        return sn == 0 && fr == root1 && sr == root2;
    }

    /// @dev HASH(0x01 || left || right), RFC 9162 section 2.1.1.
    function _node(bytes32 left, bytes32 right) private pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x01), left, right));
    }
}
