using System.Diagnostics;
using AppHost;
using Aspire.Hosting.ApplicationModel;
using History;

namespace UserService.Tests.Infrastructure;

/// <summary>
/// The service replicas of a running AppHost, as the history checker's faults reach them: one killed with
/// SIGKILL, the other the next time, and started again as the dashboard would.
/// </summary>
public sealed class AppHostServices(RunningAppHost host, int replicas) : IServiceHost
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(1);

    private int kills;

    public async Task KillReplicaAsync(CancellationToken cancellationToken)
    {
        var running = await host.ReplicasAsync(replicas);
        var victim = running.OrderBy(replica => replica.Id, StringComparer.Ordinal).ElementAt(kills++ % running.Count);
        // The replica's process is `dotnet run`, which waits on the service it started: the service is what dies.
        var launcher = await host.PidAsync(victim.Id);
        using (var service = Process.GetProcessById(ProcessControl.ChildrenOf(launcher).Single()))
        {
            service.Kill();
            await service.WaitForExitAsync(cancellationToken).WaitAsync(Bound, cancellationToken);
        }

        await host.App.ResourceNotifications.WaitForResourceAsync(
            ResourceNames.UserService, update => update.ResourceId == victim.Id && KnownResourceStates.TerminalStates.Contains(update.Snapshot.State?.Text), cancellationToken)
            .WaitAsync(Bound, cancellationToken);
        await host.ExecuteCommandAsync(victim.Id, KnownResourceCommands.StartCommand);
        await host.ReplicasAsync(replicas);
    }
}
