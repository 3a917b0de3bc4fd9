using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using WebhookFunctions.Development;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Hosting;

/// <summary>
/// The Azurite a local run starts for itself: when it dies, on start or later, the host must say so
/// and exit non-zero, never report success over someone else's Azurite or none.
/// </summary>
[Collection(ApiTestGroup.Name)]
public sealed partial class LocalAzuriteTests(ApiFixture fixture) : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly string _data = Directory.CreateTempSubdirectory("azurite-data-").FullName;

    [GeneratedRegex(@"Started Azurite \(process (?<pid>\d+)\)")]
    private static partial Regex StartedLine();

    /// <summary>
    /// The state the start race leaves behind: the port was free when checked, and by the time
    /// Azurite binds, another process listens on it. A connect to the port now succeeds, so only
    /// Azurite's own word can say whether it is ours.
    /// </summary>
    [Fact]
    public async Task Azurite_that_finds_its_port_taken_fails_with_its_exit_code_and_output_instead_of_reporting_success()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((IPEndPoint)squatter.LocalEndpoint).Port;
        var tools = AzuriteProcess.FindToolDirectory(AppContext.BaseDirectory)!;

        var failure = await Assert.ThrowsAsync<AzuriteExitedException>(() =>
            AzuriteProcess.StartAsync(tools, port, dataDirectory: null, accounts: null, log: null, new CancellationTokenSource(Deadline).Token));

        Assert.NotEqual(0, failure.ExitCode);
        Assert.Contains("EADDRINUSE", failure.OutputTail, StringComparison.Ordinal);
        Assert.Contains("EADDRINUSE", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_host_whose_azurite_dies_on_start_logs_why_and_exits_non_zero()
    {
        // Azurite cannot load a database file that is not JSON: a child that fails on start, every time.
        await File.WriteAllTextAsync(Path.Combine(_data, "__azurite_db_table__.json"), "not json{");
        await using var host = Launch();

        var exitCode = await host.WaitForExitAsync(Deadline);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Azurite exited with code 1 before it was listening", host.Output, StringComparison.Ordinal);
        Assert.Contains("is not valid JSON", host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Started Azurite", host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", host.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_host_whose_azurite_dies_while_it_runs_logs_why_and_exits_non_zero()
    {
        await using var host = Launch();
        var started = StartedLine().Match(await host.WaitForOutputAsync(line => StartedLine().IsMatch(line), Deadline));
        using var azurite = Process.GetProcessById(int.Parse(started.Groups["pid"].Value, CultureInfo.InvariantCulture));
        Assert.False(host.HasExited, host.Output);

        azurite.Kill();
        var exitCode = await host.WaitForExitAsync(Deadline);

        Assert.NotEqual(0, exitCode);
        Assert.Matches(@"Azurite \(process \d+\) on port \d+ exited with code 137 while this host was using it; stopping the host", host.Output);
        Assert.Contains("Table service is successfully listening at http://127.0.0.1", host.Output, StringComparison.Ordinal);
    }

    /// <summary>A host that starts its own Azurite on a free port with data in a temporary folder.</summary>
    private StandaloneProcess Launch() => StandaloneProcess.Launch(
        AppContext.BaseDirectory,
        [
            $"Storage:ConnectionString={fixture.ConnectionString}",
            $"LocalSecrets:Key={TestHost.LocalSecretsKey}",
            "Development:StartAzurite=true",
            $"Development:AzuriteTablePort={AzuriteProcess.FreePort()}",
            $"Development:AzuriteQueuePort={AzuriteProcess.FreePort()}",
            $"Development:AzuriteBlobPort={AzuriteProcess.FreePort()}",
            $"Development:AzuriteDataDirectory={_data}",
            "Logging:LogLevel:Default=Information",
        ],
        AzuriteProcess.FreePort());

    public void Dispose() => Directory.Delete(_data, recursive: true);
}
