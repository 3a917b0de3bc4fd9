using System.Security.Cryptography;

namespace WebhookFunctions.Core.Secrets;

/// <summary>
/// The AES-256 key of the local secret store: from configuration, or generated once into a
/// git-ignored file so secrets survive restarts. There is deliberately no built-in default key.
/// </summary>
public sealed class LocalSecretKey
{
    private const int KeyBytes = 32;

    private LocalSecretKey(byte[] bytes) => Bytes = bytes;

    public byte[] Bytes { get; }

    public static LocalSecretKey Load(LocalSecretsOptions options, string contentRoot)
    {
        if (!string.IsNullOrWhiteSpace(options.Key))
        {
            return FromBase64(options.Key, "LocalSecrets:Key");
        }

        var path = Path.GetFullPath(Path.Combine(contentRoot, options.KeyFile));
        if (File.Exists(path))
        {
            return FromBase64(File.ReadAllText(path).Trim(), path);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var key = RandomNumberGenerator.GetBytes(KeyBytes);
        File.WriteAllText(path, Convert.ToBase64String(key));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return new LocalSecretKey(key);
    }

    private static LocalSecretKey FromBase64(string value, string source)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(value);
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"The local secret key from {source} is not base64.");
        }

        return bytes.Length == KeyBytes
            ? new LocalSecretKey(bytes)
            : throw new InvalidOperationException($"The local secret key from {source} must be {KeyBytes} bytes.");
    }
}
