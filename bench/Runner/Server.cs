using System.Diagnostics;
using System.Net.Sockets;

namespace Bench;

/// <summary>A process the benchmark starts and stops: a store, the user service or the baseline.</summary>
internal sealed class Server : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly Process process;
    private readonly StreamWriter log;

    private Server(string name, Process process, StreamWriter log, int port)
    {
        Name = name;
        this.process = process;
        this.log = log;
        Port = port;
        process.OutputDataReceived += (_, line) => Write(line.Data);
        process.ErrorDataReceived += (_, line) => Write(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Name { get; }

    public int Port { get; }

    public Process Process => process;

    /// <summary>
    /// Starts <paramref name="fileName"/>, its output going to a log file under <paramref name="logDirectory"/>.
    /// An ASP.NET Core application takes its working directory as its content root, where it finds its
    /// appsettings.json: start one in its own output folder. With <paramref name="cores"/> it runs on those
    /// cores only (a taskset list, such as <c>2-5</c>).
    /// </summary>
    public static Server Start(
        string name,
        int port,
        string fileName,
        IEnumerable<string> arguments,
        IEnumerable<KeyValuePair<string, string>> environment,
        string logDirectory,
        string? workingDirectory = null,
        string? cores = null)
    {
        var (command, commandArguments) = CoreLayout.Pinned(cores, fileName, arguments);
        var startInfo = new ProcessStartInfo(command, commandArguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var (key, value) in environment)
        {
            startInfo.Environment[key] = value;
        }

        var log = new StreamWriter(Path.Combine(logDirectory, $"{name}.log")) { AutoFlush = true };
        return new Server(name, Process.Start(startInfo)!, log, port);
    }

    /// <summary>Waits until <paramref name="ready"/> holds, or fails with the end of the log.</summary>
    public async Task WaitUntilReadyAsync(Func<Task<bool>> ready)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                if (await ready())
                {
                    return;
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or IOException or SocketException)
            {
                // Not listening yet.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }

        throw new InvalidOperationException($"{Name} did not become ready; see its log in {((FileStream)log.BaseStream).Name}.");
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
        await log.DisposeAsync();
    }

    private void Write(string? line)
    {
        if (line is not null)
        {
            lock (log)
            {
                log.WriteLine(line);
            }
        }
    }
}
