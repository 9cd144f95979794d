using System.Net;
using System.Net.Sockets;
using System.Text;
using History;

namespace UserService.Tests.InProcess.Reliability;

/// <summary>
/// The history's clients send each write once: a write cut without an answer is recorded as unanswered, never
/// replaced by the answer to a copy that HttpClient sent again on its own.
/// </summary>
public sealed class WorkloadClientTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DeleteCutBeforeAnyAnswerIsSentOnceAndLeftUnanswered()
    {
        // A replica killed while it applies the delete: the connection closes with no answer.
        await using var server = new CuttingServer(cutWrite: 1);
        using var client = new WorkloadClient(() => new HttpClient { BaseAddress = server.Address }, TimeSpan.FromSeconds(10));

        await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/users/1")));
        Assert.Equal(["DELETE /api/users/1"], server.Received);
    }

    [Fact]
    public async Task DeleteCutOnAConnectionThatServedAReadIsSentOnceAndLeftUnanswered()
    {
        await using var server = new CuttingServer(cutWrite: 1);
        using var client = new WorkloadClient(() => new HttpClient { BaseAddress = server.Address }, TimeSpan.FromSeconds(10));

        using (var read = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/users/1")))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }

        await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/users/1")));
        Assert.Equal(["GET /api/users/1", "DELETE /api/users/1"], server.Received);
    }

    /// <summary>
    /// An HTTP/1.1 server that answers every request with 200 and keeps the connection, except the
    /// <c>cutWrite</c>-th write it receives, whose connection it closes without a byte of answer.
    /// </summary>
    private sealed class CuttingServer : IAsyncDisposable
    {
        private readonly TcpListener listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource stop = new();
        private readonly List<string> received = [];
        private readonly int cutWrite;
        private readonly Task accepting;
        private int writes;

        public CuttingServer(int cutWrite)
        {
            this.cutWrite = cutWrite;
            listener.Start();
            accepting = AcceptAsync();
        }

        public Uri Address => new($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");

        public IReadOnlyList<string> Received
        {
            get
            {
                lock (received)
                {
                    return [.. received];
                }
            }
        }

        private async Task AcceptAsync()
        {
            var connections = new List<Task>();
            try
            {
                while (true)
                {
                    connections.Add(ServeAsync(await listener.AcceptTcpClientAsync(stop.Token)));
                }
            }
            catch (OperationCanceledException)
            {
                await Task.WhenAll(connections);
            }
        }

        private async Task ServeAsync(TcpClient connection)
        {
            using var _ = connection;
            using var reader = new StreamReader(connection.GetStream(), Encoding.ASCII, leaveOpen: true);
            var stream = connection.GetStream();
            try
            {
                while (await reader.ReadLineAsync(stop.Token) is { Length: > 0 } requestLine)
                {
                    // The requests carry no body, or an empty one: the request ends at the first empty line.
                    while (await reader.ReadLineAsync(stop.Token) is { Length: > 0 })
                    {
                    }

                    var request = string.Join(' ', requestLine.Split(' ')[..2]);
                    lock (received)
                    {
                        received.Add(request);
                    }

                    if (!request.StartsWith("GET ", StringComparison.Ordinal) && Interlocked.Increment(ref writes) == cutWrite)
                    {
                        return;
                    }

                    await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8.ToArray(), stop.Token);
                }
            }
            catch (Exception exception) when (exception is IOException or OperationCanceledException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            listener.Stop();
            await accepting;
            stop.Dispose();
        }
    }
}
