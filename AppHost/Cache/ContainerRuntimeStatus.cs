using System.Diagnostics;

namespace AppHost.Cache;

/// <summary>Whether a container runtime (Docker or Podman) can run containers right now.</summary>
public sealed record ContainerRuntimeStatus(string Name, bool IsHealthy, string Detail)
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Asks the runtime Aspire would use (<c>ASPIRE_CONTAINER_RUNTIME</c>, else Docker, then Podman) for its
    /// server version. A CLI without a daemon behind it is not a runtime.
    /// </summary>
    public static ContainerRuntimeStatus Probe(string? preferredRuntime)
    {
        string[] candidates = string.IsNullOrWhiteSpace(preferredRuntime) ? ["docker", "podman"] : [preferredRuntime];

        var failures = new List<string>();
        foreach (var runtime in candidates)
        {
            var status = ProbeOne(runtime);
            if (status.IsHealthy)
            {
                return status;
            }

            failures.Add($"{runtime}: {status.Detail}");
        }

        return new(string.Join("/", candidates), IsHealthy: false, string.Join("; ", failures));
    }

    private static ContainerRuntimeStatus ProbeOne(string runtime)
    {
        var startInfo = new ProcessStartInfo(runtime, ["info", "--format", "{{.ServerVersion}}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        try
        {
            using var process = Process.Start(startInfo)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(ProbeTimeout))
            {
                process.Kill(entireProcessTree: true);
                return new(runtime, false, $"no answer within {ProbeTimeout.TotalSeconds:0} s");
            }

            var version = output.Result.Trim();
            return process.ExitCode == 0 && version.Length > 0
                ? new(runtime, true, $"server {version}")
                : new(runtime, false, FirstLine(error.Result) ?? $"'{runtime} info' exited with code {process.ExitCode}");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return new(runtime, false, "not installed");
        }
    }

    private static string? FirstLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
}
