using System.Buffers.Binary;
using System.IO.Hashing;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace WebhookFunctions.Core.Auth;

/// <summary>
/// API keys: <c>wk_live_</c>, 43 base62 characters carrying 32 random bytes, and a 6-character
/// base62 CRC32 of everything before it. The checksum lets a typo or a scraped fragment be refused
/// without touching storage, and lets secret scanners recognise a real key.
/// </summary>
public static class ApiKeyFormat
{
    public const string Prefix = "wk_live_";
    public const int BodyLength = 43;
    public const int ChecksumLength = 6;
    public const int Length = 8 + BodyLength + ChecksumLength;
    public const int DisplayPrefixLength = 12;

    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string Generate()
    {
        var body = Base62(new BigInteger(RandomNumberGenerator.GetBytes(32), isUnsigned: true, isBigEndian: true), BodyLength);
        var head = Prefix + body;
        return head + Checksum(head);
    }

    public static bool IsWellFormed([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? key)
    {
        if (key is not { Length: Length } || !key.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in key.AsSpan(Prefix.Length))
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }

        var head = key[..(Length - ChecksumLength)];
        return CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(Checksum(head)), Encoding.ASCII.GetBytes(key[^ChecksumLength..]));
    }

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public static string DisplayPrefix(string key) => key[..DisplayPrefixLength];

    private static string Checksum(string head)
    {
        var crc = BinaryPrimitives.ReadUInt32BigEndian(Crc32.Hash(Encoding.ASCII.GetBytes(head)));
        return Base62(crc, ChecksumLength);
    }

    private static string Base62(BigInteger value, int width)
    {
        var chars = new char[width];
        for (var i = width - 1; i >= 0; i--)
        {
            chars[i] = Alphabet[(int)(value % 62)];
            value /= 62;
        }

        return value.IsZero ? new string(chars) : throw new InvalidOperationException("Value does not fit the width.");
    }
}
