using Nodes.TestKit;

namespace Nodes.Wire.Tests.Ike;

/// <summary>
/// Published IKEv2 messages used as fixtures. Source: the Android IKE library's unit tests (AOSP
/// packages/modules/IPsec, tests/iketests/.../ike/message/IkeMessageTest.java, constants IKE_SA_INIT_RAW_PACKET,
/// IKE_AUTH_HEX_STRING, IKE_AUTH_UNENCRYPTED_PADDED_DATA_HEX_STRING and IKE_EMPTY_INFO_MSG_HEX_STRING).
/// </summary>
internal static class IkeFixtures
{
    // IKE_SA_INIT request: HDR, SA(IKE: AES-CBC-128, HMAC-SHA1-96, group 2, PRF-HMAC-SHA1), KE(group 2, 128 B),
    // Ni(32 B), N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP), V.
    public static byte[] IkeSaInit => Hex.Decode(
        "8f54bf6d8b48e6e1 0000000000000000 21 20 22 08 00000000 00000150" +
        "220000300000002c010100040300000c0100000c" +
        "800e00800300000803000002030000080400000200000008" +
        "020000022800008800020000b4a2faf4bb54878ae21d6385" +
        "12ece55d9236fc5046ab6cef82220f421f3ce6361faf3656" +
        "4ecb6d28798a94aad7b2b4b603ddeaaa5630adb9ece8ac37" +
        "534036040610ebdd92f46bef84f0be7db860351843858f8a" +
        "cf87056e272377f70c9f2d81e29c7b0ce4f291a3a72476bb" +
        "0b278fd4b7b0a4c26bbeb08214c707137607958729000024" +
        "c39b7f368f4681b89fa9b7be6465abd7c5f68b6ed5d3b4c7" +
        "2cb4240eb5c464122900001c00004004e54f73b7d83f6beb" +
        "881eab2051d8663f421d10b02b00001c00004005d915368c" +
        "a036004cb578ae3e3fb268509aeab1900000002069936922" +
        "8741c6d4ca094c93e242c9de19e7b7c60000000500000500");

    public const string IkeSaInitKeData =
        "b4a2faf4bb54878ae21d638512ece55d9236fc5046ab6cef82220f421f3ce6361faf3656" +
        "4ecb6d28798a94aad7b2b4b603ddeaaa5630adb9ece8ac37534036040610ebdd92f46bef84f0be7db860351843858f8a" +
        "cf87056e272377f70c9f2d81e29c7b0ce4f291a3a72476bb0b278fd4b7b0a4c26bbeb08214c7071376079587";

    public const string IkeSaInitNonce = "c39b7f368f4681b89fa9b7be6465abd7c5f68b6ed5d3b4c72cb4240eb5c46412";

    // IKE_AUTH request protected with AES-CBC-128 (16-byte IV and blocks) and HMAC-SHA1-96 (12-byte ICV).
    public static byte[] IkeAuth => Hex.Decode(
        "5f54bf6d8b48e6e1909232b3d1edcb5c2e20230800000001000000ec" +
        "230000d0b9132b7bb9f658dfdc648e5017a6322a030c316c" +
        "e55f365760d46426ce5cfc78bd1ed9abff63eb9594c1bd58" +
        "46de333ecd3ea2b705d18293b130395300ba92a351041345" +
        "0a10525cea51b2753b4e92b081fd78d995659a98f742278f" +
        "f9b8fd3e21554865c15c79a5134d66b2744966089e416c60" +
        "a274e44a9a3f084eb02f3bdce1e7de9de8d9a62773ab563b" +
        "9a69ba1db03c752acb6136452b8a86c41addb4210d68c423" +
        "efed80e26edca5fa3fe5d0a5ca9375ce332c474b93fb1fa3" +
        "59eb4e81ae6e0f22abdad69ba8007d50");

    // The decrypted SK body of IkeAuth: IDi, IDr, AUTH, SA, TSi, TSr, N(INITIAL_CONTACT), N(SET_WINDOW_SIZE),
    // then 11 padding octets and Pad Length 11.
    public static byte[] IkeAuthDecryptedBody => Hex.Decode(
        "2400000c010000000a50500d2700000c010000000a505050" +
        "2100001c02000000df7c038aefaaa32d3f44b228b52a3327" +
        "44dfb2c12c00002c00000028010304032ad4c0a20300000c" +
        "0100000c800e008003000008030000020000000805000000" +
        "2d00001801000000070000100000ffff00000000ffffffff" +
        "2900001801000000070000100000ffff00000000ffffffff" +
        "29000008000040000000000c000040010000000100000000" +
        "000000000000000b");

    // INFORMATIONAL response with an empty SK: 16-byte IV, one 16-byte block, 12-byte ICV.
    public static byte[] EmptyInformational => Hex.Decode(
        "5f54bf6d8b48e6e1909232b3d1edcb5c2e20252800000000" +
        "0000004c00000030e376871750fdba9f7012446c5dc3f97a" +
        "f83b48ba0dbc68bcc4a78136832100aa4192f251cd4d1b97" +
        "d298e550");
}
