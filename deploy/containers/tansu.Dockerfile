# The broker of the contract suite's containers environment: Tansu (Kafka protocol, in-memory storage), the same
# binary the embedded stack runs. It is a static executable, so the image holds nothing else.
#
#   cp "$(python -c 'from gateway.devstack.broker import tansu_binary; print(tansu_binary())')" CONTEXT/tansu
#   docker build -f deploy/containers/tansu.Dockerfile -t ecuapass-tansu CONTEXT
#   docker run --network host ecuapass-tansu broker --listener-url tcp://127.0.0.1:9092 \
#       --advertised-listener-url tcp://127.0.0.1:9092 --storage-engine memory://tansu/
FROM scratch
COPY tansu /tansu
USER 65534:65534
EXPOSE 9092
ENTRYPOINT ["/tansu"]
