// Signatures against the spec's vectors (../shared/spec/wire-protocol.md 1.3 and 1.5): the
// request one recomputed from a capture of the Node.js SDK, the response one per the Java and
// Python SDKs' checks.
#include "server/ots_auth.h"

#include <gtest/gtest.h>

namespace tablelake::server {
namespace {

TEST(OtsAuth, RequestSignatureOfACapturedNodeRequest) {
  Headers headers = {{"x-ots-date", "2026-11-24T17:35:06.482Z"},
                     {"x-ots-apiversion", "2015-12-31"},
                     {"x-ots-accesskeyid", "AKIDEXAMPLE"},
                     {"x-ots-signature", "ignored"},
                     {"host", "127.0.0.1"},
                     {"content-length", "12"},
                     {"x-ots-contentmd5", "nL88F91ZYLOtS/wJZ1Z1Pw=="},
                     {"x-ots-instancename", "dummyinst"}};
  std::string to_sign = RequestStringToSign("CreateTable", headers);
  EXPECT_EQ(to_sign,
            "/CreateTable\nPOST\n\nx-ots-accesskeyid:AKIDEXAMPLE\nx-ots-apiversion:2015-12-31\n"
            "x-ots-contentmd5:nL88F91ZYLOtS/wJZ1Z1Pw==\nx-ots-date:2026-11-24T17:35:06.482Z\n"
            "x-ots-instancename:dummyinst\n");
  EXPECT_EQ(SignV2("SECRETEXAMPLE", to_sign), "e2lyFC+mPo3hQYf2HiFzE1+Vgb8=");
  EXPECT_NE(SignV2("SECRETEXAMPLf", to_sign), "e2lyFC+mPo3hQYf2HiFzE1+Vgb8=");
}

TEST(OtsAuth, ResponseSignature) {
  Headers headers = {{"x-ots-requestid", "0005aedd-0000-0000-0000-000000000001"},
                     {"x-ots-contenttype", "protocol buffer"},
                     {"x-ots-date", "2026-11-24T17:35:06.500000Z"},
                     {"x-ots-contentmd5", "1B2M2Y8AsgTpgAmY7PhCfg=="}};
  EXPECT_EQ(SignV2("SECRETEXAMPLE", ResponseStringToSign("CreateTable", headers)),
            "k02+hux0Bh9jCgihk8pni38Ii5w=");
}

TEST(OtsAuth, V4KeyDependsOnDayAndRegion) {
  std::string k = V4SigningKey("SECRETEXAMPLE", "20261124", "cn-hangzhou");
  EXPECT_EQ(k.size(), 44u);  // base64 of 32 bytes
  EXPECT_NE(k, V4SigningKey("SECRETEXAMPLE", "20261125", "cn-hangzhou"));
  EXPECT_NE(k, V4SigningKey("SECRETEXAMPLE", "20261124", "cn-shanghai"));
  EXPECT_EQ(SignV4(k, "x").size(), 44u);
  EXPECT_TRUE(SignaturesEqual("abc", "abc"));
  EXPECT_FALSE(SignaturesEqual("abc", "abd"));
  EXPECT_FALSE(SignaturesEqual("abc", "ab"));
}

}  // namespace
}  // namespace tablelake::server
