using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace WebhookFunctions.Development;

/// <summary>
/// Runs the pinned Azurite table service from <c>tools/azurite</c>, installing it with <c>npm ci</c>
/// on first use. Used by the standalone host in Development and by the test fixture.
/// </summary>
public sealed class AzuriteProcess : IAsyncDisposable
{
    private static readonly SemaphoreSlim InstallLock = new(1, 1);
    private readonly Process _process;

    private AzuriteProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Starts Azurite on 127.0.0.1:<paramref name="port"/>. With <paramref name="dataDirectory"/> null it
    /// keeps data in memory. <paramref name="accounts"/> sets AZURITE_ACCOUNTS (account:base64key).
    /// </summary>
    public static async Task<AzuriteProcess> StartAsync(
        string toolDirectory, int port, string? dataDirectory, string? accounts, TextWriter? log, CancellationToken cancellationToken)
    {
        var entry = await EnsureInstalledAsync(toolDirectory, log, cancellationToken);
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { entry, "--tableHost", "127.0.0.1", "--tablePort", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--skipApiVersionCheck", "--disableTelemetry", "--silent" })
        {
            start.ArgumentList.Add(argument);
        }

        if (dataDirectory is null)
        {
            start.ArgumentList.Add("--inMemoryPersistence");
        }
        else
        {
            Directory.CreateDirectory(dataDirectory);
            start.ArgumentList.Add("--location");
            start.ArgumentList.Add(dataDirectory);
        }

        if (accounts is not null)
        {
            start.Environment["AZURITE_ACCOUNTS"] = accounts;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start node for Azurite.");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { log?.WriteLine("[azurite] " + e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { log?.WriteLine("[azurite] " + e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var azurite = new AzuriteProcess(process, port);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await IsListeningAsync(port, cancellationToken))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                await azurite.DisposeAsync();
                throw new InvalidOperationException($"Azurite did not start listening on 127.0.0.1:{port}.");
            }

            await Task.Delay(100, cancellationToken);
        }

        return azurite;
    }

    public static async Task<bool> IsListeningAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
            return true;
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Finds <c>tools/azurite</c> by walking up from <paramref name="start"/>.</summary>
    public static string? FindToolDirectory(string start)
    {
        for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "tools", "azurite");
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>
    /// Stops Azurite the way Ctrl+C does, so that in persistent mode it writes its data out first;
    /// only if it has not gone within a few seconds is it killed.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited && !OperatingSystem.IsWindows())
        {
            try
            {
                using var interrupt = Process.Start(new ProcessStartInfo("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])
                {
                    UseShellExecute = false,
                });
                await interrupt!.WaitForExitAsync();
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or System.ComponentModel.Win32Exception)
            {
            }
        }

        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static async Task<string> EnsureInstalledAsync(string toolDirectory, TextWriter? log, CancellationToken cancellationToken)
    {
        var entry = Path.Combine(toolDirectory, "node_modules", "azurite", "dist", "src", "table", "main.js");
        await InstallLock.WaitAsync(cancellationToken);
        try
        {
            if (File.Exists(entry))
            {
                return entry;
            }

            log?.WriteLine($"Installing the pinned Azurite into {toolDirectory} (npm ci; first run only)...");
            var npm = new ProcessStartInfo("npm") { WorkingDirectory = toolDirectory, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { "ci", "--no-audit", "--no-fund", "--loglevel=error" })
            {
                npm.ArgumentList.Add(argument);
            }

            using var install = Process.Start(npm) ?? throw new InvalidOperationException("Could not run npm; install Node.js 20 or later.");
            var output = install.StandardOutput.ReadToEndAsync(cancellationToken);
            var errors = install.StandardError.ReadToEndAsync(cancellationToken);
            await install.WaitForExitAsync(cancellationToken);
            if (install.ExitCode != 0 || !File.Exists(entry))
            {
                throw new InvalidOperationException($"npm ci in {toolDirectory} failed with exit code {install.ExitCode}: {await output}{await errors}");
            }

            return entry;
        }
        finally
        {
            InstallLock.Release();
        }
    }
}
