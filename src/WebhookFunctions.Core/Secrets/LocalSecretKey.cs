using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;

namespace WebhookFunctions.Core.Secrets;

/// <summary>
/// The AES-256 key of the local secret store: from configuration, or generated once into a
/// git-ignored file so secrets survive restarts. There is deliberately no built-in default key.
/// </summary>
public sealed class LocalSecretKey
{
    private const int KeyBytes = 32;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private LocalSecretKey(byte[] bytes) => Bytes = bytes;

    public byte[] Bytes { get; }

    public static LocalSecretKey Load(LocalSecretsOptions options, string contentRoot, ILogger? logger = null)
    {
        if (!string.IsNullOrWhiteSpace(options.Key))
        {
            return FromBase64(options.Key, "LocalSecrets:Key");
        }

        var path = Path.GetFullPath(Path.Combine(contentRoot, options.KeyFile));
        if (File.Exists(path))
        {
            WarnIfLoose(path, logger);
            return FromBase64(File.ReadAllText(path).Trim(), path);
        }

        var key = RandomNumberGenerator.GetBytes(KeyBytes);
        Write(path, Encoding.ASCII.GetBytes(Convert.ToBase64String(key)));
        return new LocalSecretKey(key);
    }

    /// <summary>
    /// Creates the file with owner-only permissions in one step, so there is no moment in which it
    /// exists under the umask (typically 0644), and never through a link someone planted at the path
    /// (CreateNew fails on anything already there).
    /// </summary>
    private static void Write(string path, byte[] content)
    {
        var folder = Path.GetDirectoryName(path)!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(path, content);
            return;
        }

        if (!Directory.Exists(folder))
        {
            Directory.CreateDirectory(folder, OwnerOnlyFolder);
        }

        using var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            UnixCreateMode = OwnerOnlyFile,
        });
        file.Write(content);
        file.Flush(flushToDisk: true);
    }

    private static void WarnIfLoose(string path, ILogger? logger)
    {
        if (OperatingSystem.IsWindows() || logger is null)
        {
            return;
        }

        var mode = File.GetUnixFileMode(path);
        if ((mode & ~OwnerOnlyFile) != 0)
        {
            logger.LogWarning(
                "The local secret key file {Path} is readable or writable by others (mode {Mode}); restrict it with chmod 600 {Path}",
                path, Convert.ToString((int)mode, 8), path);
        }
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
