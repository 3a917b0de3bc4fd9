using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WebhookFunctions.Admin;
using WebhookFunctions.Core.Secrets;
using WebhookFunctions.Standalone;

namespace WebhookFunctions.Tests.Hosting;

/// <summary>
/// The local secret-store key is one file, the repository's <c>.local/local-secrets.key</c>, whichever
/// host uses it and from wherever it runs; otherwise the admin CLI and the standalone host (or two
/// ways of starting the host) would each generate a key of their own.
/// </summary>
public sealed class LocalKeyFileTests
{
    private static readonly string Root = OperationParityTests.RepositoryRoot();
    private static readonly string Expected = Path.Combine(Root, ".local", "local-secrets.key");

    [Fact]
    public async Task The_standalone_host_run_from_its_project_folder_uses_the_repository_key_file()
    {
        // `dotnet run --project src/WebhookFunctions.Standalone` has the project folder as content root.
        Assert.Equal(Expected, await StandaloneKeyFileAsync($"--contentRoot={Path.Combine(Root, "src", "WebhookFunctions.Standalone")}"));
    }

    [Fact]
    public async Task The_standalone_host_run_from_its_output_folder_uses_the_repository_key_file()
    {
        Assert.Equal(Expected, await StandaloneKeyFileAsync($"--contentRoot={AppContext.BaseDirectory}"));
    }

    [Fact]
    public void The_admin_cli_uses_the_same_key_file_as_the_standalone_host()
    {
        using var host = AdminCli.CreateBuilder().Build();

        Assert.Equal(Expected, host.Services.GetRequiredService<IOptions<LocalSecretsOptions>>().Value.KeyFile);
    }

    [Fact]
    public async Task An_absolute_key_file_is_kept_as_given()
    {
        var own = Path.Combine(Path.GetTempPath(), "elsewhere", "local-secrets.key");

        Assert.Equal(own, await StandaloneKeyFileAsync($"--contentRoot={AppContext.BaseDirectory}", $"--LocalSecrets:KeyFile={own}"));
    }

    private static async Task<string> StandaloneKeyFileAsync(params string[] args)
    {
        // Built, not started: nothing is created, the configuration is what it would use.
        await using var app = StandaloneApp.Build(["--environment=Development", .. args]);
        return app.Services.GetRequiredService<IOptions<LocalSecretsOptions>>().Value.KeyFile;
    }
}
