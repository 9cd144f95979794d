using System.Diagnostics;

namespace UserService.Tests.Infrastructure;

/// <summary>Signals and stops processes the tests started, every wait bounded.</summary>
public static class ProcessControl
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>Sends a POSIX signal (TERM, INT, STOP, CONT) with kill(1).</summary>
    public static async Task SignalAsync(Process process, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString()])!;
        await kill.WaitForExitAsync().WaitAsync(Bound);
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Kills the process and whatever it started, and waits until it is gone.</summary>
    public static async Task KillAsync(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().WaitAsync(Bound);
        }
    }

    /// <summary>The processes <paramref name="pid"/> started and that still run, as Linux lists them.</summary>
    public static IReadOnlyList<int> ChildrenOf(int pid) =>
        [.. File.ReadAllText($"/proc/{pid}/task/{pid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse)];
}
