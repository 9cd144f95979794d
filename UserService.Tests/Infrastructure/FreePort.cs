using System.Net;
using System.Net.Sockets;

namespace UserService.Tests.Infrastructure;

public static class FreePort
{
    /// <summary>A loopback port that nothing listened on a moment ago.</summary>
    public static int Next() => Next(1)[0];

    /// <summary>
    /// <paramref name="count"/> different such ports: all are held until all are found, since a port just
    /// released is the next one the system hands out.
    /// </summary>
    public static int[] Next(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(listener => listener.Start());
            return [.. listeners.Select(listener => ((IPEndPoint)listener.LocalEndpoint).Port)];
        }
        finally
        {
            listeners.ForEach(listener => listener.Stop());
        }
    }

    /// <summary>
    /// <paramref name="count"/> consecutive loopback ports, each free along with the one
    /// <paramref name="pairedOffset"/> above it (a Redis Cluster node's bus port), from a random start.
    /// </summary>
    public static int Block(int count, int pairedOffset)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var first = Random.Shared.Next(20_000, 65_535 - pairedOffset - count);
            var ports = Enumerable.Range(first, count).SelectMany(port => new[] { port, port + pairedOffset }).ToList();
            var listeners = new List<TcpListener>();
            try
            {
                foreach (var port in ports)
                {
                    var listener = new TcpListener(IPAddress.Loopback, port);
                    listener.Start();
                    listeners.Add(listener);
                }

                return first;
            }
            catch (SocketException)
            {
                // Taken: try another start.
            }
            finally
            {
                listeners.ForEach(listener => listener.Stop());
            }
        }

        throw new InvalidOperationException($"No {count} consecutive free loopback ports were found.");
    }
}
