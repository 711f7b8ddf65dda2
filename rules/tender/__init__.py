"""The tender rules (投标截止时间判断, 投标文件一致性判断): the contract's façade (``contract``), the
CLI (``cli``) and a witness's audit of a section from the chain alone (``audit``)."""
