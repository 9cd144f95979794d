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
}
