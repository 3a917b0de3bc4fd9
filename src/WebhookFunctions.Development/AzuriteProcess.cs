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
    private const int TailLines = 40;
    private static readonly SemaphoreSlim InstallLock = new(1, 1);
    private readonly Process _process;
    private readonly Queue<string> _tail = new();

    private AzuriteProcess(Process process, int port, int? queuePort, int? blobPort)
    {
        _process = process;
        Port = port;
        QueuePort = queuePort;
        BlobPort = blobPort;
    }

    /// <summary>The table service's port.</summary>
    public int Port { get; }

    public int? QueuePort { get; }

    public int? BlobPort { get; }

    /// <summary>A connection string for every service this process runs, under <paramref name="accountKey"/>.</summary>
    public string ConnectionString(string accountKey) =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={accountKey};TableEndpoint=http://127.0.0.1:{Port}/devstoreaccount1;"
        + (QueuePort is { } q ? $"QueueEndpoint=http://127.0.0.1:{q}/devstoreaccount1;" : string.Empty)
        + (BlobPort is { } b ? $"BlobEndpoint=http://127.0.0.1:{b}/devstoreaccount1;" : string.Empty);

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code once <see cref="HasExited"/>; 128 + the signal number when a signal ended it.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>The last lines Azurite wrote (stdout and stderr), for saying why it stopped.</summary>
    public string OutputTail
    {
        get
        {
            lock (_tail)
            {
                return string.Join(Environment.NewLine, _tail);
            }
        }
    }

    /// <summary>Completes when the process has exited and its output has been read to the end.</summary>
    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>
    /// Starts Azurite on 127.0.0.1:<paramref name="port"/>. With <paramref name="dataDirectory"/> null it
    /// keeps data in memory. <paramref name="accounts"/> sets AZURITE_ACCOUNTS (account:base64key).
    /// </summary>
    /// <param name="queuePort">With <paramref name="blobPort"/>, also runs the queue and blob services; otherwise tables only.</param>
    public static async Task<AzuriteProcess> StartAsync(
        string toolDirectory, int port, string? dataDirectory, string? accounts, TextWriter? log, CancellationToken cancellationToken,
        int? queuePort = null, int? blobPort = null)
    {
        var tableEntry = await EnsureInstalledAsync(toolDirectory, log, cancellationToken);
        var allServices = queuePort is not null && blobPort is not null;
        var entry = allServices ? Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(tableEntry)!)!, "azurite.js") : tableEntry;
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

        if (allServices)
        {
            foreach (var argument in new[]
                     {
                         "--queueHost", "127.0.0.1", "--queuePort", queuePort!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
                         "--blobHost", "127.0.0.1", "--blobPort", blobPort!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     })
            {
                start.ArgumentList.Add(argument);
            }
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
        var azurite = new AzuriteProcess(process, port, allServices ? queuePort : null, allServices ? blobPort : null);

        // Ready means this child said it listens. A connect to the port is not proof: if another
        // process took the port after the caller checked it, the connect succeeds against that one
        // while this child dies with EADDRINUSE.
        // With every service, azurite.js reports the table service last, once all three listen.
        var readyLine = allServices
            ? $"Table service is successfully listening at http://127.0.0.1:{port}"
            : $"successfully started on 127.0.0.1:{port}";
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            azurite.Remember(line);
            log?.WriteLine("[azurite] " + line);
            if (line.Contains(readyLine, StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var exited = process.WaitForExitAsync(CancellationToken.None);
        var timeout = Task.Delay(StartTimeout, cancellationToken);
        var first = await Task.WhenAny(ready.Task, exited, timeout);
        if (first == ready.Task && !process.HasExited)
        {
            return azurite;
        }

        var reason = first == timeout && !process.HasExited
            ? cancellationToken.IsCancellationRequested
                ? "was cancelled before it was listening"
                : $"did not say it was listening within {StartTimeout.TotalSeconds} s"
            : null;
        if (reason is null)
        {
            await exited;
            var failure = new AzuriteExitedException(port, azurite.ExitCode, azurite.OutputTail);
            await azurite.DisposeAsync();
            throw failure;
        }

        var tail = azurite.OutputTail;
        await azurite.DisposeAsync();
        cancellationToken.ThrowIfCancellationRequested();
        throw new InvalidOperationException($"Azurite on 127.0.0.1:{port} {reason}. Its last output:{Environment.NewLine}{tail}");
    }

    private static TimeSpan StartTimeout => TimeSpan.FromSeconds(60);

    private void Remember(string line)
    {
        lock (_tail)
        {
            _tail.Enqueue(line);
            while (_tail.Count > TailLines)
            {
                _tail.Dequeue();
            }
        }
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

/// <summary>Azurite's process ended before it listened: its exit code and last output say why (e.g. EADDRINUSE).</summary>
public sealed class AzuriteExitedException(int port, int exitCode, string outputTail)
    : Exception($"Azurite (table service on 127.0.0.1:{port}) exited with code {exitCode} before it was listening. Its last output:{Environment.NewLine}{outputTail}")
{
    public int ExitCode { get; } = exitCode;

    public string OutputTail { get; } = outputTail;
}
