using System.Runtime.Versioning;
using System.Security.Cryptography;
using WebhookFunctions.Core.Secrets;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Webhooks;

/// <summary>The Development key file of the local secret store is never readable by anyone else, not even for a moment.</summary>
[Collection(ApiTestGroup.Name)]
[UnsupportedOSPlatform("windows")]
public sealed class LocalSecretKeyTests(ApiFixture fixture) : IDisposable
{
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly string _root = Directory.CreateTempSubdirectory("local-secret-key-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void A_generated_key_file_is_owner_only_in_an_owner_only_folder()
    {
        var key = LocalSecretKey.Load(new LocalSecretsOptions { KeyFile = "keys/local-secrets.key" }, _root);

        var path = Path.Combine(_root, "keys", "local-secrets.key");
        Assert.Equal(32, key.Bytes.Length);
        Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(path));
        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        Assert.Equal(key.Bytes, LocalSecretKey.Load(new LocalSecretsOptions { KeyFile = "keys/local-secrets.key" }, _root).Bytes);
    }

    [Fact]
    public void A_link_planted_where_the_key_file_goes_is_not_followed()
    {
        var elsewhere = Path.Combine(_root, "elsewhere.txt");
        Directory.CreateDirectory(Path.Combine(_root, "keys"));
        File.CreateSymbolicLink(Path.Combine(_root, "keys", "local-secrets.key"), elsewhere);

        Assert.ThrowsAny<Exception>(() => LocalSecretKey.Load(new LocalSecretsOptions { KeyFile = "keys/local-secrets.key" }, _root));
        Assert.False(File.Exists(elsewhere), "the key was written through the planted link");
    }

    [Fact]
    public async Task A_host_warns_when_an_existing_key_file_is_readable_by_others()
    {
        var path = Path.Combine(_root, "loose.key");
        await File.WriteAllTextAsync(path, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        File.SetUnixFileMode(path, OwnerOnlyFile | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        await using var host = await fixture.StartHostAsync("LocalSecrets:Key=", $"LocalSecrets:KeyFile={path}");

        Assert.Contains(host.Logs.Lines, line => line.Contains("Warning", StringComparison.Ordinal) && line.Contains(path, StringComparison.Ordinal));
    }
}
